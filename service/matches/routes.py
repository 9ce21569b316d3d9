"""HTTP routes for matching and stored match runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from schemas.common import Page, problem_responses
from schemas.fields import FieldList
from schemas.limits import DEFAULT_PAGE_SIZE, MAX_ID, MAX_PAGE_SIZE
from schemas.matches import MatchRequest, MatchRunRead, MatchRunSummary
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.engine import MatchEngineDep
from service.http import decode_cursor, encode_cursor
from service.matches import service

router = APIRouter(prefix="/api/v1", tags=["matches"])
Searcher = Annotated[Principal, allow("advisor", "integration", "widget")]
RunReader = Annotated[Principal, allow("advisor", "integration")]


@router.post(
    "/matches",
    status_code=status.HTTP_201_CREATED,
    response_model=MatchRunRead,
    responses=problem_responses(404, 413, 422, 503),
    summary="Find complementary partners",
)
def create_match(
    body: MatchRequest,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: Searcher,
    response: Response,
) -> MatchRunRead:
    """Rank partners whose offers answer the source's needs (and the reverse), with
    an explanation per result. The run is stored and can be read again.

    Advisors match profiles of their regions, integrations those they registered; a
    widget key searches by ``text`` only. Private profiles outside the caller's reach
    are never returned."""
    run = service.run_match(session, engine, principal, body)
    response.headers["Location"] = f"/api/v1/match-runs/{run.run_id}"
    return run


@router.get("/fields", response_model=FieldList, summary="List the fields to limit matches to")
def list_fields(_principal: Searcher) -> FieldList:
    """Broad fields of technology and application, in a fixed order, with English and
    Czech labels. Send their ids as ``fields`` of a match (``field`` of a widget search)
    to keep only partners whose offers mention a concept of one of them."""
    return service.list_fields()


@router.get(
    "/match-runs/{run_id}",
    response_model=MatchRunRead,
    responses=problem_responses(404),
    summary="Read a stored match run",
)
def read_match_run(
    run_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, principal: RunReader
) -> MatchRunRead:
    """The run with its results exactly as they were returned."""
    return service.read_run(session, principal, run_id)


@router.get(
    "/match-runs",
    response_model=Page[MatchRunSummary],
    responses=problem_responses(422),
    summary="List match runs",
)
def list_match_runs(
    session: SessionDep,
    principal: RunReader,
    profile_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Runs asked for this profile")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[MatchRunSummary]:
    """Runs, newest first."""
    items, last_id = service.list_runs(
        session, principal, profile_id=profile_id, before_id=decode_cursor(cursor), limit=limit
    )
    return Page(items=items, next_cursor=None if last_id is None else encode_cursor(last_id))
