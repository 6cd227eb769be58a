from backend.accounts.selectors import user_reviews_division
from backend.core.permissions import rule


@rule("division.manage")
def manage_division(user, code: str) -> bool:
    return user_reviews_division(user, code)
