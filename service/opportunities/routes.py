"""HTTP routes for opportunities (thin: parse, call the service, shape)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from schemas.common import Page, Region, problem_responses
from schemas.limits import (
    DEFAULT_PAGE_SIZE,
    MAX_ACTOR_CHARS,
    MAX_ID,
    MAX_OWNER_CHARS,
    MAX_PAGE_SIZE,
)
from schemas.opportunities import (
    NoteCreate,
    OpportunityCreate,
    OpportunityEventRead,
    OpportunityRead,
    OpportunityStatus,
    OpportunityUpdate,
)
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.errors import PreconditionRequired
from service.http import (
    IfMatchHeader,
    decode_cursor,
    decode_keyset,
    encode_cursor,
    encode_keyset,
    set_etag,
)
from service.opportunities import service
from service.opportunities.repository import OpportunityFilter

router = APIRouter(prefix="/api/v1", tags=["opportunities"])

OpportunityId = Annotated[int, Path(ge=1, le=MAX_ID, description="Opportunity id")]
ActorHeader = Annotated[
    str | None,
    Header(
        alias="X-Actor",
        min_length=1,
        max_length=MAX_ACTOR_CHARS,
        description="Who makes the change, as recorded in the history (default: the key's name)",
    ),
]
# Advisors work the opportunities of their regions; others are 404 to them.
Advisor = Annotated[Principal, allow("advisor")]


def _actor(principal: Principal, given: str | None) -> str:
    return given or principal.name


@router.post(
    "/opportunities",
    status_code=status.HTTP_201_CREATED,
    response_model=OpportunityRead,
    responses=problem_responses(404, 409, 413, 422),
    summary="Open an opportunity",
)
def create_opportunity(
    body: OpportunityCreate,
    session: SessionDep,
    principal: Advisor,
    response: Response,
    actor: ActorHeader = None,
) -> OpportunityRead:
    """From a match result (``match_run_id`` + ``rank``: the run's source and that result's
    organisation) or from ``profile_ids``. 409, with ``existing``, when the same
    organisations already have an active opportunity."""
    created = service.create(session, principal, body, _actor(principal, actor))
    response.headers["Location"] = f"/api/v1/opportunities/{created.id}"
    set_etag(response, created.version)
    return created


def queue_filter(
    status_: Annotated[
        list[OpportunityStatus] | None, Query(alias="status", description="Any of these")
    ] = None,
    region: Annotated[Region | None, Query(description="NUTS 3 code")] = None,
    owner: Annotated[str | None, Query(max_length=MAX_OWNER_CHARS)] = None,
    organization_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="Has this member organisation")
    ] = None,
    overdue: Annotated[bool, Query(description="Only active ones past their due date")] = False,
    created_from: Annotated[datetime | None, Query(description="inclusive")] = None,
    created_to: Annotated[datetime | None, Query(description="exclusive")] = None,
    updated_from: Annotated[datetime | None, Query(description="inclusive")] = None,
    updated_to: Annotated[datetime | None, Query(description="exclusive")] = None,
) -> OpportunityFilter:
    """The queue's filters, shared by the list and the export."""
    return OpportunityFilter(
        statuses=status_,
        region=region,
        owner=owner,
        organization_id=organization_id,
        overdue_on=date.today() if overdue else None,
        created_from=created_from,
        created_to=created_to,
        updated_from=updated_from,
        updated_to=updated_to,
    )


QueueFilter = Annotated[OpportunityFilter, Depends(queue_filter)]
SortOrder = Annotated[
    Literal[
        "id",
        "-id",
        "created_at",
        "-created_at",
        "updated_at",
        "-updated_at",
        "due_date",
        "-due_date",
    ],
    Query(description="Order; '-' for descending; ties by id. No due date sorts last."),
]


@router.get(
    "/opportunities",
    response_model=Page[OpportunityRead],
    responses=problem_responses(422),
    summary="The opportunity queue",
)
def list_opportunities(
    session: SessionDep,
    principal: Advisor,
    where: QueueFilter,
    sort: SortOrder = "id",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[OpportunityRead]:
    """Opportunities filtered and sorted; pass ``next_cursor`` back as ``cursor`` (with the
    same filters and sort) for the next page."""
    items, last = service.list_page(
        session,
        service.scoped(principal, where),
        sort=sort,
        after=decode_keyset(cursor, sort),
        limit=limit,
    )
    next_cursor = None if last is None else encode_keyset(sort, *last)
    return Page(items=items, next_cursor=next_cursor)


EXPORT_COLUMNS = (
    "id",
    "status",
    "region",
    "owner",
    "due_date",
    "overdue",
    "source",
    "score",
    "decline_reason",
    "members",
    "member_organization_ids",
    "match_run_id",
    "match_rank",
    "created_at",
    "updated_at",
)


def _csv_row(item: OpportunityRead) -> list[object]:
    return [
        item.id,
        item.status,
        item.region or "",
        item.owner or "",
        item.due_date or "",
        item.overdue,
        item.source,
        "" if item.score is None else item.score,
        item.decline_reason or "",
        " | ".join(m.name for m in item.members),
        " ".join(str(m.organization_id) for m in item.members),
        item.match_run_id or "",
        item.match_rank or "",
        item.created_at.isoformat(),
        item.updated_at.isoformat(),
    ]


def _csv_lines(items: Iterator[OpportunityRead]) -> Iterator[str]:
    """CSV text, a line at a time, starting with a byte-order mark for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    yield "\ufeff" + buffer.getvalue()
    for item in items:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(_csv_row(item))
        yield buffer.getvalue()


def _json_lines(items: Iterator[OpportunityRead]) -> Iterator[str]:
    for item in items:
        yield item.model_dump_json() + "\n"


@router.get(
    "/opportunities/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/csv": {}, "application/x-ndjson": {}}},
        **problem_responses(422),
    },
    summary="Export the queue as CSV or JSON Lines",
)
def export_opportunities(
    request: Request,
    principal: Advisor,
    where: QueueFilter,
    format_: Annotated[Literal["csv", "jsonl"], Query(alias="format")] = "csv",
    sort: SortOrder = "id",
) -> StreamingResponse:
    """The same selection as the list, every page of it, streamed: CSV in UTF-8 with a
    byte-order mark (Excel shows Czech names right), or one JSON object per line."""
    rows = service.export_rows(
        request.app.state.db_engine, service.scoped(principal, where), sort=sort
    )
    if format_ == "csv":
        return StreamingResponse(
            _csv_lines(rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="opportunities.csv"'},
        )
    return StreamingResponse(
        _json_lines(rows),
        media_type="application/x-ndjson",
        headers={"Content-Disposition": 'attachment; filename="opportunities.jsonl"'},
    )


@router.get(
    "/opportunities/{opportunity_id}",
    response_model=OpportunityRead,
    responses=problem_responses(404),
    summary="Read an opportunity",
)
def read_opportunity(
    opportunity_id: OpportunityId, session: SessionDep, principal: Advisor, response: Response
) -> OpportunityRead:
    """One opportunity; the ETag carries its version."""
    found = service.read(session, principal, opportunity_id)
    set_etag(response, found.version)
    return found


@router.patch(
    "/opportunities/{opportunity_id}",
    response_model=OpportunityRead,
    responses=problem_responses(404, 409, 412, 413, 422, 428),
    summary="Move, reassign or annotate an opportunity",
)
def update_opportunity(
    opportunity_id: OpportunityId,
    body: OpportunityUpdate,
    session: SessionDep,
    principal: Advisor,
    response: Response,
    if_match: IfMatchHeader = None,
    actor: ActorHeader = None,
) -> OpportunityRead:
    """Needs ``If-Match`` with the version you read (428 without, 412 when stale). A status
    the pipeline does not allow from the current one gives 409 naming the allowed ones."""
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the version you read (its ETag), so no change is overwritten"
        )
    updated = service.update(
        session, principal, opportunity_id, body, if_match, _actor(principal, actor)
    )
    set_etag(response, updated.version)
    return updated


@router.post(
    "/opportunities/{opportunity_id}/notes",
    status_code=status.HTTP_201_CREATED,
    response_model=OpportunityEventRead,
    response_model_by_alias=True,
    responses=problem_responses(404, 413, 422),
    summary="Add a note",
)
def add_note(
    opportunity_id: OpportunityId,
    body: NoteCreate,
    session: SessionDep,
    principal: Advisor,
    actor: ActorHeader = None,
) -> OpportunityEventRead:
    """A note joins the history; it does not change the opportunity's version."""
    return service.add_note(session, principal, opportunity_id, body, _actor(principal, actor))


@router.get(
    "/opportunities/{opportunity_id}/events",
    response_model=Page[OpportunityEventRead],
    response_model_by_alias=True,
    responses=problem_responses(404, 422),
    summary="The history of an opportunity",
)
def list_events(
    opportunity_id: OpportunityId,
    session: SessionDep,
    principal: Advisor,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[OpportunityEventRead]:
    """Every change, note and reassignment, oldest first (append-only)."""
    items, last_id = service.events(
        session, principal, opportunity_id, after_id=decode_cursor(cursor), limit=limit
    )
    return Page(items=items, next_cursor=None if last_id is None else encode_cursor(last_id))
