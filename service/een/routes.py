"""HTTP route for expression-of-interest drafts of EEN-sourced match runs."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from schemas.common import problem_responses
from schemas.limits import MAX_ID, MAX_MATCH_LIMIT
from schemas.matches import MatchResult
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.een import eoi
from service.errors import Conflict, InvalidInput, NotFound
from service.matches import service as matches
from service.models import Organization, Profile, utcnow
from service.organizations import service as organizations

router = APIRouter(prefix="/api/v1", tags=["een"])
Reader = Annotated[Principal, allow("advisor", "integration")]


@router.get(
    "/match-runs/{run_id}/eoi",
    responses={
        200: {"content": {"application/json": {}, "text/plain": {}}},
        **problem_responses(404, 409, 422),
    },
    summary="Expression-of-interest drafts for an EEN profile's matches",
)
def eoi_drafts(
    run_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    principal: Reader,
    rank: Annotated[
        int | None, Query(ge=1, le=MAX_MATCH_LIMIT, description="One result; default all")
    ] = None,
    format_: Annotated[Literal["json", "text"], Query(alias="format")] = "json",
) -> Response:
    """For a run made for an EEN-sourced profile: per result, a draft an EEN advisor can
    file — the EEN reference, the interested organisation, why it fits, the proposed
    partnership, and ``[TO COMPLETE: …]`` placeholders for what a person must add.
    ``format=text`` gives plain text to paste."""
    run = matches.read_run(session, principal, run_id)
    if run.profile_id is None:
        raise InvalidInput.at("#/run_id", f"match run {run_id} was made for free text")
    source = session.get(Profile, run.profile_id)
    if source is None:
        raise Conflict(f"the profile of match run {run_id} no longer exists")
    if source.source != "een":
        raise InvalidInput(
            f"match run {run_id} was made for a profile that does not come from EEN",
            errors=[{"parameter": "run_id", "in": "path", "detail": "not an EEN profile"}],
        )
    results = [r for r in run.results if rank is None or r.rank == rank]
    if rank is not None and not results:
        raise NotFound(f"match run {run_id} has no result at rank {rank}")
    een_profile = {
        "id": source.id,
        "title": source.title,
        "offers": source.offers,
        "needs": source.needs,
        "external_ref": source.external_ref,
        "details": source.details or {},
    }
    drafts: list[dict[str, Any]] = []
    for result in results:
        drafts.append(
            eoi.draft(
                een_profile,
                result.model_dump(mode="json"),
                _client(session, principal, result.organization.id, result),
                now=utcnow(),
            )
        )
    if format_ == "text":
        return PlainTextResponse("\n\n".join(eoi.as_text(d) for d in drafts))
    return JSONResponse({"run_id": run_id, "drafts": drafts})


def _client(
    session: SessionDep, principal: Principal, organization_id: int, result: MatchResult
) -> dict[str, Any]:
    """The interested organisation as the caller may see it: in full, or (an
    organisation another partner registered) what the match result shows of it."""
    if session.get(Organization, organization_id) is None:
        raise Conflict(f"organisation {organization_id} of rank {result.rank} no longer exists")
    try:
        return organizations.read_organization(session, principal, organization_id).model_dump(
            mode="json"
        )
    except NotFound:
        return result.organization.model_dump(mode="json")
