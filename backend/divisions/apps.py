from django.apps import AppConfig


class DivisionsConfig(AppConfig):
    name = "backend.divisions"
    label = "divisions"
    verbose_name = "Divisions"

    def ready(self) -> None:
        from backend.divisions import permissions  # noqa: F401
