"""Account services: sign-in and sessions, roles, staff sign-in, personal-data rights.

One module per sub-domain; every public name is importable from ``backend.accounts.services``.
"""

from backend.accounts.services.cancellation import (
    account_cancel_request,
    account_keep,
    cancellations_complete,
)
from backend.accounts.services.grants import grant_create, grant_withdraw, grants_expire
from backend.accounts.services.personal_data import personal_data_copy
from backend.accounts.services.roles import ADMIN_ROLES, grant_revoke, grant_role
from backend.accounts.services.sessions import (
    TokenPair,
    account_disable,
    session_logout,
    session_refresh,
    session_start,
    signin_dev,
    signin_firebase,
    user_get_or_create,
)
from backend.accounts.services.staff import staff_code_issue, staff_signin

__all__ = [
    "ADMIN_ROLES",
    "TokenPair",
    "account_cancel_request",
    "account_disable",
    "account_keep",
    "cancellations_complete",
    "grant_create",
    "grant_revoke",
    "grant_role",
    "grant_withdraw",
    "grants_expire",
    "personal_data_copy",
    "session_logout",
    "session_refresh",
    "session_start",
    "signin_dev",
    "signin_firebase",
    "staff_code_issue",
    "staff_signin",
    "user_get_or_create",
]
