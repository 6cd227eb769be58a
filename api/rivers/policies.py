"""Patrol policies: the minimums of a valid patrol, per division."""

from __future__ import annotations

from ninja import Router

from api.rivers.schemas import PatrolPolicyIn, PatrolPolicyOut
from api.schemas import ERRORS
from backend.rivers import selectors, services
from backend.rivers.permissions import division_access, division_manage_check

router = Router()


@router.get("/rivers/policies/{code}", response={200: PatrolPolicyOut, **ERRORS})
def policy_effective(request, code: str):
    """The patrol minimums in force for a division (inherited from the nearest ancestor)."""
    division_access(division_code=code)
    return selectors.patrol_policy_for(division_code=code)


@router.put("/rivers/policies/{code}", response={200: PatrolPolicyOut, **ERRORS})
def policy_set(request, code: str, payload: PatrolPolicyIn):
    division_manage_check(user=request.auth, division_codes=code)
    services.patrol_policy_set(
        actor=request.auth,
        division_code=code,
        min_duration_s=payload.min_duration_s,
        min_distance_m=payload.min_distance_m,
    )
    return selectors.patrol_policy_for(division_code=code)
