from django.apps import AppConfig


class RiversConfig(AppConfig):
    name = "backend.rivers"
    label = "rivers"
