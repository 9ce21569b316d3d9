"""HTTP routes for region figures (thin: parse, call the service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from schemas.common import Region, problem_responses
from schemas.stats import RegionStats, RegionStatsList
from service.db import SessionDep
from service.stats import service

router = APIRouter(prefix="/api/v1", tags=["stats"])

RegionCode = Annotated[
    Region, Path(description="NUTS 3 code, e.g. CZ080 (old Czech codes are mapped)")
]


@router.get(
    "/stats/regions",
    response_model=RegionStatsList,
    responses=problem_responses(),
    summary="Figures of every region",
)
def list_region_stats(session: SessionDep) -> RegionStatsList:
    """Every NUTS 3 region with at least one organisation or opportunity, by code: its
    organisations, profiles, match runs, opportunities, pipeline conversion, median days
    and outcomes by match score."""
    return RegionStatsList(items=service.all_region_stats(session))


@router.get(
    "/stats/regions/{code}",
    response_model=RegionStats,
    response_model_by_alias=True,
    responses=problem_responses(422),
    summary="Figures of one region",
)
def read_region_stats(code: RegionCode, session: SessionDep) -> RegionStats:
    """The figures of one NUTS 3 region; a valid code with nothing recorded gives zeros,
    an invalid one 422."""
    return service.region_stats(session, code)
