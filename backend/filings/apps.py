from django.apps import AppConfig


class FilingsConfig(AppConfig):
    name = "backend.filings"
    label = "filings"
    verbose_name = "社区社会组织备案"

    def ready(self) -> None:
        from backend.filings import notifications, permissions, personal_data  # noqa: F401
