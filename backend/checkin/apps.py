from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "backend.checkin"
    label = "checkin"
    verbose_name = "Event check-in"

    def ready(self) -> None:
        from backend.checkin import notifications, pass_images, permissions, personal_data  # noqa: F401
        from backend.checkin.services import signup_changed_listener
        from backend.core.signed_urls import media_render
        from backend.volunteers.hooks import on_signup_changed

        on_signup_changed(signup_changed_listener)
        media_render.register(pass_images.generated_image)  # pass QR codes behind signed URLs
