import time

from django.core.management.base import BaseCommand

from backend.divisions.services import divisions_load


class Command(BaseCommand):
    help = "Load the national division codes (province to street) shipped in backend/divisions/data."

    def add_arguments(self, parser):
        parser.add_argument("--prefix", default="", help="Only this region, e.g. 4403 for Shenzhen.")

    def handle(self, *args, prefix: str = "", **options):
        started = time.monotonic()
        result = divisions_load(prefix=prefix)
        self.stdout.write(
            f"divisions: {result.created} created, {result.updated} updated, {result.unchanged} unchanged "
            f"in {time.monotonic() - started:.1f}s"
        )
