from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "backend.checkin"
    label = "checkin"
    verbose_name = "Event check-in"

    def ready(self) -> None:
        from backend.checkin import notifications, permissions, personal_data  # noqa: F401
        from backend.checkin.services import signup_changed_listener
        from backend.volunteers.hooks import on_signup_changed

        on_signup_changed(signup_changed_listener)
