from datetime import date

from django.core.management.base import BaseCommand, CommandError

from backend.filings import jobs


class Command(BaseCommand):
    help = (
        "Apply the credit-list time rules (abnormal/serious lists, removals, expiry) and due-date warnings."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as of this day (YYYY-MM-DD); default today in Asia/Shanghai.")

    def handle(self, *args, **options):
        try:
            today = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD") from exc
        sweep = jobs.credit_list_sweep(today=today)
        warnings = jobs.filing_due_warnings(today=today)
        self.stdout.write(" ".join(f"{k}={v}" for k, v in {**sweep, **warnings}.items()))
