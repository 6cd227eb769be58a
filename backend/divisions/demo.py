"""Demo divisions: the national tree (loaded once) and the demo street's community."""

from __future__ import annotations

from django.core.management import call_command

from backend.accounts.demo import DEMO_COMMUNITY, DEMO_COMMUNITY_NAME, DEMO_STREET
from backend.divisions.models import Division
from backend.divisions.services import community_create


def seed(stdout) -> None:
    if not Division.objects.filter(code=DEMO_STREET).exists():
        call_command("load_divisions", stdout=stdout)
    if Division.objects.filter(code=DEMO_STREET).exists():
        community_create(street_code=DEMO_STREET, code=DEMO_COMMUNITY, name=DEMO_COMMUNITY_NAME)
