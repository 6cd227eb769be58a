from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "backend.credentials"
    label = "credentials"
    verbose_name = "从业人员资格 Practitioner credentials"

    def ready(self) -> None:
        from backend.credentials import notifications, permissions  # noqa: F401
