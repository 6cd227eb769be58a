from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "backend.volunteers"
    label = "volunteers"
    verbose_name = "Volunteers"

    def ready(self) -> None:
        from backend.volunteers import notifications, permissions, personal_data  # noqa: F401
