"""Public look-ups before filing: the policy in force for a division, and the name check."""

from __future__ import annotations

from ninja import Query, Router

from api.filings._common import division_code, public_throttle
from api.filings.schemas import FilingNameCheckOut, FilingPolicyOut
from api.schemas import DIVISION_PATTERN, ERRORS, LOCAL_DIVISION_PATTERN
from backend.filings import selectors

router = Router()


@router.get(
    "/filings/name-check",
    response={200: FilingNameCheckOut, **ERRORS},
    auth=None,
    throttle=[public_throttle()],
)
def name_check(
    request,
    name: str = Query(..., min_length=1, max_length=200),
    division: str = Query(..., pattern=LOCAL_DIVISION_PATTERN),
):
    """名称预核准: whether a proposed name can be filed in the community ``division``, with reasons."""
    problems = selectors.name_check(name=name[:200], division_code=division_code(division, lengths=(9, 12)))
    return {"name": name, "acceptable": not problems, "reasons": problems}


@router.get(
    "/filings/policy",
    response={200: FilingPolicyOut, **ERRORS},
    auth=None,
    throttle=[public_throttle()],
)
def policy(request, division: str = Query(..., pattern=DIVISION_PATTERN)):
    """The filing policy in force for a division (inherited down the tree)."""
    return selectors.filing_policy_effective(division_code=division_code(division, lengths=(2, 4, 6, 9, 12)))
