from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "backend.volunteers"
    label = "volunteers"
