from django.apps import AppConfig


class FilingsConfig(AppConfig):
    name = "backend.filings"
    label = "filings"
