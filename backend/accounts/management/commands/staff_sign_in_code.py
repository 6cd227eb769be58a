"""``manage.py staff_sign_in_code PHONE``: a one-time admin sign-in code, for whoever has a shell
on the server (the first platform admin, before anyone can use the app's own way)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from backend.accounts.errors import NotStaff
from backend.accounts.models import User
from backend.accounts.services import staff_code_issue
from backend.core.validators import normalize_mainland_mobile


class Command(BaseCommand):
    help = "Print a one-time code with which a staff member signs in to the Django admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("phone", help="the staff member's mainland mobile number")

    def handle(self, *args, phone: str, **options) -> None:
        try:
            number = normalize_mainland_mobile(phone)
        except ValueError as exc:
            raise CommandError(f"Not a mainland mobile number: {phone}") from exc
        user = User.objects.filter(phone=number, is_active=True).first()
        if user is None:
            raise CommandError(f"No active account with phone {number}.")
        try:
            code, ttl = staff_code_issue(user=user)
        except NotStaff as exc:
            raise CommandError(f"{number} holds no role that works in the admin.") from exc
        self.stdout.write(f"{code}  (phone {number}, valid {ttl // 60} minutes, once)")
