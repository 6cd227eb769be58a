"""Account cancellation (注销, PIPL Art. 47) after a cooling-off period.

``POST /me/cancel`` records the request: the account's sessions, tokens, push devices and WeChat
binding go at once (each domain's ``account_cancelling`` hook), and the cancellation takes effect
``LINLI_CANCELLATION_COOLING_OFF_DAYS`` (15) days later. Signing in again meanwhile answers 409
``account_cancellation_pending`` with a keep-account token: ``POST /auth/keep-account`` keeps the
account (the cancellation withdrawn) and signs in. When the period is over the
``accounts.cancellations_complete`` job carries it out: every domain deletes the personal data it
holds or replaces it by the pseudonym where records must be kept (``account_erasing``), and the
account itself keeps only the pseudonym, so its phone number can register again.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from backend.accounts.errors import CancellationAlreadyRequested, KeepTokenInvalid, NoCancellationPending
from backend.accounts.hooks import account_cancelling, account_erasing
from backend.accounts.models import AccountCancellation, AuthSession, Grant, StaffSignInCode, User
from backend.accounts.selectors import pending_cancellation
from backend.accounts.services.roles import grant_revoke
from backend.accounts.services.sessions import TokenPair, session_revoke_all, session_start
from backend.accounts.tokens import keep_token_decode
from backend.core.audit import audit_record
from backend.runtime.sockets import CLOSE_SESSION_ENDED, sockets_close_after_commit, user_group

PSEUDONYM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def cooling_off() -> timedelta:
    return timedelta(days=int(getattr(settings, "LINLI_CANCELLATION_COOLING_OFF_DAYS", 15)))


def account_cancel_request(*, user: User) -> AccountCancellation:
    """Ask to cancel the account: signed out everywhere now, cancelled after the cooling-off."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        if pending_cancellation(user=user) is not None:
            raise CancellationAlreadyRequested()
        now = timezone.now()
        cancellation = AccountCancellation.objects.create(user=user, effective_at=now + cooling_off())
        session_revoke_all(user=user, reason="account_cancellation")
        StaffSignInCode.objects.filter(user=user).delete()
        account_cancelling.call_all(user)
        audit_record(
            actor=user,
            action="account.cancellation_requested",
            target=cancellation,
            data={"effective_at": cancellation.effective_at.isoformat()},
        )
    return cancellation


def account_cancel_withdraw(*, cancellation: AccountCancellation, by: User) -> None:
    with transaction.atomic():
        done = AccountCancellation.objects.filter(
            pk=cancellation.pk, withdrawn_at__isnull=True, completed_at__isnull=True
        ).update(withdrawn_at=timezone.now())
        if not done:
            raise NoCancellationPending()
        audit_record(actor=by, action="account.cancellation_withdrawn", target=cancellation)


def account_keep(*, keep_token: str) -> TokenPair:
    """Keep the account after signing in during the cooling-off period: the cancellation is
    withdrawn and the device signed in. What already went (devices, the WeChat binding) stays
    gone: the app registers its device and binds WeChat again."""
    decoded = keep_token_decode(keep_token)
    if decoded is None:
        raise KeepTokenInvalid()
    user_id, cancellation_id = decoded
    cancellation = (
        AccountCancellation.objects.select_related("user")
        .filter(pk=cancellation_id, user_id=user_id, completed_at__isnull=True)
        .first()
    )
    if cancellation is None or not cancellation.user.is_active:
        raise KeepTokenInvalid()
    with transaction.atomic():
        if cancellation.withdrawn_at is None:
            account_cancel_withdraw(cancellation=cancellation, by=cancellation.user)
        return session_start(user=cancellation.user, method="keep_account")


def cancellations_complete(*, now: datetime | None = None) -> int:
    """Carry out every cancellation whose cooling-off is over (the scheduled job)."""
    now = now or timezone.now()
    due = AccountCancellation.objects.filter(
        effective_at__lte=now, withdrawn_at__isnull=True, completed_at__isnull=True
    ).values_list("pk", flat=True)
    done = 0
    for pk in list(due):
        if account_erase(cancellation_id=pk, now=now):
            done += 1
    return done


def account_erase(*, cancellation_id: int, now: datetime) -> bool:
    """One cancellation, in one transaction: every domain's part, then the account's own."""
    with transaction.atomic():
        cancellation = (
            AccountCancellation.objects.select_for_update()
            .select_related("user")
            .filter(pk=cancellation_id, withdrawn_at__isnull=True, completed_at__isnull=True)
            .first()
        )
        if cancellation is None:
            return False
        user = cancellation.user
        pseudonym = "注销用户-" + "".join(secrets.choice(PSEUDONYM_ALPHABET) for _ in range(8))
        for grant in Grant.objects.filter(user=user):
            grant_revoke(grant=grant, by=None)
        account_erasing.call_all(user, pseudonym)
        _account_pseudonymise(user=user, pseudonym=pseudonym)
        cancellation.pseudonym = pseudonym
        cancellation.completed_at = now
        cancellation.save(update_fields=["pseudonym", "completed_at"])
        audit_record(
            actor=None, action="account.cancelled", target=cancellation, data={"pseudonym": pseudonym}
        )
    return True


def _account_pseudonymise(*, user: User, pseudonym: str) -> None:
    """The account row stays (kept records point at it) with nothing personal left: the phone
    becomes a placeholder no mainland number can equal (so the number can register again)."""
    AuthSession.objects.filter(user=user).delete()  # devices' addresses and agents; refresh tokens too
    sockets_close_after_commit(user_group(user.pk), code=CLOSE_SESSION_ENDED)
    StaffSignInCode.objects.filter(user=user).delete()
    user.phone = f"0{user.pk:010d}"[-11:]
    user.display_name = pseudonym
    user.firebase_uid = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
