"""HTTP routes for region figures (thin: parse, call the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from schemas.common import Region, problem_responses
from schemas.stats import RegionStats, RegionStatsList
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.errors import Forbidden
from service.stats import service

router = APIRouter(prefix="/api/v1", tags=["stats"])
Advisor = Annotated[Principal, allow("advisor")]

RegionCode = Annotated[
    Region, Path(description="NUTS 3 code, e.g. CZ080 (old Czech codes are mapped)")
]


@router.get(
    "/stats/regions",
    response_model=RegionStatsList,
    responses=problem_responses(),
    summary="Figures of every region",
)
def list_region_stats(session: SessionDep, principal: Advisor) -> RegionStatsList:
    """Every NUTS 3 region with at least one organisation or opportunity, by code: its
    organisations, profiles, match runs, opportunities, pipeline conversion, median days
    and outcomes by match score. An advisor sees its own regions."""
    items = service.all_region_stats(session)
    return RegionStatsList(items=[item for item in items if principal.covers_region(item.region)])


@router.get(
    "/stats/regions/{code}",
    response_model=RegionStats,
    response_model_by_alias=True,
    responses=problem_responses(422),
    summary="Figures of one region",
)
def read_region_stats(code: RegionCode, session: SessionDep, principal: Advisor) -> RegionStats:
    """The figures of one NUTS 3 region; a valid code with nothing recorded gives zeros,
    an invalid one 422; an advisor reads its own regions (403 for others)."""
    found = service.region_stats(session, code)
    if not principal.covers_region(found.region):
        raise Forbidden(f"region {found.region} is outside this key's regions")
    return found
