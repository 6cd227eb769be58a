from django.core.management.base import BaseCommand

from backend.filings.holidays import calendar_seed
from backend.filings.models import WorkCalendarDay


class Command(BaseCommand):
    help = "Add the known public holidays and make-up workdays (2025-2027) missing from the calendar."

    def handle(self, *args, **options):
        added = calendar_seed(WorkCalendarDay)
        self.stdout.write(f"work calendar: {added} days added")
