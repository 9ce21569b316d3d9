"""HTTP routes for administrators: API keys, the audit trail, erasure requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlmodel import col, select

from schemas.access import (
    AuditEventRead,
    ErasureRequest,
    ErasureResult,
    KeyCreate,
    KeyCreated,
    KeyList,
    KeyRead,
)
from schemas.common import Page, problem_responses
from schemas.limits import DEFAULT_PAGE_SIZE, MAX_ID, MAX_PAGE_SIZE
from service.admin import privacy
from service.auth import keys
from service.auth.policy import AdminCaller
from service.db import SessionDep
from service.errors import NotFound
from service.http import decode_cursor, encode_cursor
from service.models import AuditEvent

router = APIRouter(prefix="/api/v1", tags=["administration"])
KeyId = Annotated[int, Path(ge=1, le=MAX_ID, description="Key id")]


def _forget_cached_keys(request: Request) -> None:
    request.app.state.key_resolver.invalidate()


@router.post(
    "/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=KeyCreated,
    responses=problem_responses(413, 422),
    summary="Create an API key",
)
def create_key(
    body: KeyCreate, session: SessionDep, _admin: AdminCaller, request: Request
) -> KeyCreated:
    """The answer carries the key in ``key``: this is the only time it is shown; only its
    SHA-256 digest is stored (so an ``Idempotency-Key`` is refused here: replaying the
    answer would mean storing the key)."""
    made = keys.create(
        session,
        name=body.name,
        role=body.role,
        regions=body.regions,
        allowed_origins=body.allowed_origins,
        expires_at=body.expires_at,
        rate_limit_per_minute=body.rate_limit_per_minute,
    )
    _forget_cached_keys(request)
    return KeyCreated.model_validate({**made.row.model_dump(), "key": made.plaintext})


@router.get("/keys", response_model=KeyList, responses=problem_responses(422), summary="List keys")
def list_keys(
    session: SessionDep,
    _admin: AdminCaller,
    include_revoked: Annotated[bool, Query(description="Also revoked keys")] = False,
) -> KeyList:
    """Every key with its role, regions, expiry and last use; never the key itself."""
    rows = keys.listing(session, include_revoked=include_revoked)
    return KeyList(items=[KeyRead.model_validate(row, from_attributes=True) for row in rows])


@router.delete(
    "/keys/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    summary="Revoke a key",
)
def revoke_key(
    key_id: KeyId, session: SessionDep, _admin: AdminCaller, request: Request
) -> Response:
    """The key stops working at once in this process and within seconds in others; it
    stays listed (with ``include_revoked``) for the audit."""
    if keys.revoke(session, key_id) is None:
        raise NotFound(f"key {key_id} does not exist")
    _forget_cached_keys(request)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/audit",
    response_model=Page[AuditEventRead],
    responses=problem_responses(422),
    summary="The audit trail",
)
def list_audit(
    session: SessionDep,
    _admin: AdminCaller,
    key_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    role: Literal["admin", "advisor", "integration", "widget"] | None = None,
    action: Annotated[str | None, Query(max_length=16)] = None,
    object_type: Annotated[str | None, Query(max_length=32)] = None,
    object_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since: Annotated[datetime | None, Query(description="inclusive")] = None,
    until: Annotated[datetime | None, Query(description="exclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[AuditEventRead]:
    """Writes newest first: who (key, role), when, what (action, object) and which fields
    — never the values."""
    statement = select(AuditEvent)
    for column, value in (
        (AuditEvent.key_id, key_id),
        (AuditEvent.role, role),
        (AuditEvent.action, action),
        (AuditEvent.object_type, object_type),
        (AuditEvent.object_id, object_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if since is not None:
        statement = statement.where(col(AuditEvent.at) >= since)
    if until is not None:
        statement = statement.where(col(AuditEvent.at) < until)
    if before := decode_cursor(cursor):
        statement = statement.where(col(AuditEvent.id) < before)
    rows = list(session.exec(statement.order_by(col(AuditEvent.id).desc()).limit(limit + 1)))
    page = rows[:limit]
    items = [AuditEventRead.model_validate(row, from_attributes=True) for row in page]
    more = len(rows) > limit and page and page[-1].id
    return Page(items=items, next_cursor=encode_cursor(page[-1].id or 0) if more else None)


@router.post(
    "/erasures",
    response_model=ErasureResult,
    responses=problem_responses(413, 422),
    summary="Erase a person's data",
)
def erase_person(body: ErasureRequest, session: SessionDep, _admin: AdminCaller) -> ErasureResult:
    """Delete the person's contacts and redact them wherever the follow-up record names
    them (owner, history, notes, free-text match queries). The audit records the erasure
    and the kinds of records touched, not the person."""
    return privacy.erase(session, body)
