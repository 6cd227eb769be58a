"""What the routers of the filings API share."""

from __future__ import annotations

from api.throttles import ClientIpThrottle
from backend.core.errors import NotFound, ValidationFailed, field_error
from backend.core.i18n import T
from backend.filings import selectors
from backend.filings.models import Filing


def public_throttle() -> ClientIpThrottle:
    """The rate limit of the public endpoints (name check, policy, directory), per client."""
    return ClientIpThrottle("60/m", "filings-public")


def division_code(value: str, *, lengths: tuple[int, ...]) -> str:
    """A division code parameter: digits of one of ``lengths``, or 422 ``invalid_division``."""
    if not value.isdigit() or len(value) not in lengths:
        raise ValidationFailed(
            errors=[field_error("division", "invalid_division", T("区划代码无效。", "Invalid division."))]
        )
    return value


def choice(value: str, *, field: str, allowed: list[str]) -> str:
    """An optional choice parameter: empty, or one of ``allowed``, or 422 ``invalid_choice``."""
    if value and value not in allowed:
        raise ValidationFailed(
            errors=[field_error(field, "invalid_choice", T("不是允许的选项。", "Not allowed."))]
        )
    return value


def filing_fresh(filing_id: int) -> Filing:
    """The filing as it is after a change this request made (already authorised)."""
    filing = selectors.filing_get(filing_id=filing_id)
    if filing is None:
        raise NotFound()
    return filing
