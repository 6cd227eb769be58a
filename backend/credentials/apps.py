from django.apps import AppConfig


class CredentialsConfig(AppConfig):
    name = "backend.credentials"
    label = "credentials"
    verbose_name = "从业人员资格 Practitioner credentials"

    def ready(self) -> None:
        from backend.core.signed_urls import media_render
        from backend.credentials import badges, notifications, permissions  # noqa: F401

        media_render.register(badges.generated_image)  # badges and QR codes behind signed URLs
