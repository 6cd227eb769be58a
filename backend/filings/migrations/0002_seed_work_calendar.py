"""Seed the working-day calendar with China's public holidays and make-up workdays 2025-2027."""

from django.db import migrations


def seed(apps, schema_editor):
    from backend.filings.holidays import calendar_seed

    calendar_seed(apps.get_model("filings", "WorkCalendarDay"))


class Migration(migrations.Migration):
    dependencies = [("filings", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
