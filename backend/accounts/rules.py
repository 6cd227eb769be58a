from backend.accounts.selectors import user_is_platform_admin
from backend.core.permissions import rule


@rule("accounts.grant_roles")
def grant_roles(user, obj) -> bool:
    return user_is_platform_admin(user)
