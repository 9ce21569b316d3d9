"""HTTP routes for alliance candidates (thin: parse, call the service, shape)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from schemas.alliances import AllianceRequest, AllianceRunRead
from schemas.common import problem_responses
from schemas.limits import MAX_ID
from service.alliances import service
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.engine import MatchEngineDep

router = APIRouter(prefix="/api/v1", tags=["alliances"])
Advisor = Annotated[Principal, allow("advisor")]


@router.post(
    "/alliances",
    status_code=status.HTTP_201_CREATED,
    response_model=AllianceRunRead,
    responses=problem_responses(413, 422, 503),
    summary="Find export alliance candidates",
)
def create_alliance_run(
    body: AllianceRequest,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: Advisor,
    response: Response,
) -> AllianceRunRead:
    """Groups of firms (of ``regions``, targeting ``market``, around ``seed_profile_id``)
    that complete each other and do not compete, each member with what it brings; the run
    is stored. An advisor searches its own regions (all of them when none are given)."""
    run = service.run_alliances(session, engine, principal, body)
    response.headers["Location"] = f"/api/v1/alliance-runs/{run.run_id}"
    return run


@router.get(
    "/alliance-runs/{run_id}",
    response_model=AllianceRunRead,
    responses=problem_responses(404, 422),
    summary="Read a stored alliance run",
)
def read_alliance_run(
    run_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, principal: Advisor
) -> AllianceRunRead:
    """The run exactly as it was returned."""
    return service.read_run(session, principal, run_id)
