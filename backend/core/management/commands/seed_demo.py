import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Each domain that has demo data provides ``backend/<domain>/demo.py`` with ``seed(stdout)``;
# they run in this order, each idempotent.
DEMO_MODULES = [
    "backend.divisions.demo",
    "backend.accounts.demo",
    "backend.filings.demo",
    "backend.volunteers.demo",
    "backend.credentials.demo",
    "backend.checkin.demo",
    "backend.rivers.demo",
    "backend.notifications.demo",
]


class Command(BaseCommand):
    help = "Create demo accounts (one per role) and demo data. Safe to run again."

    def handle(self, *args, **options):
        for name in DEMO_MODULES:
            try:
                module = importlib.import_module(name)
            except ModuleNotFoundError as exc:
                if exc.name != name:
                    raise
                continue
            with transaction.atomic():
                module.seed(self.stdout)
        self.stdout.write(self.style.SUCCESS("demo data ready"))
