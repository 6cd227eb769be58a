from django.apps import AppConfig


class RiversConfig(AppConfig):
    name = "backend.rivers"
    label = "rivers"
    verbose_name = "Rivers"

    def ready(self) -> None:
        from backend.rivers import notifications, permissions, personal_data  # noqa: F401
