"""Who the Django admin lets in, and with which permissions.

No passwords: ``authenticate`` accepts nothing, so no form anywhere signs in with one. Staff
sign in with a one-time code from the app (``backend.accounts.services.staff``), and the admin
site logs the session in with this backend. Platform admins hold every model permission (the
admin is theirs, as every API rule is); everyone else works through the scoped admins
(``backend.accounts.adminsite.ScopedAdmin``) their roles open.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from backend.accounts.selectors import user_is_platform_admin


class StaffBackend(ModelBackend):
    def authenticate(self, request: Any, username: Any = None, password: Any = None, **kwargs: Any) -> None:
        return None

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        if user_obj.is_active and user_is_platform_admin(user_obj):
            return True
        return super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        if user_obj.is_active and user_is_platform_admin(user_obj):
            return True
        return super().has_module_perms(user_obj, app_label)
