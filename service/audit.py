"""The audit trail: every write records who (key, role), when, what and which fields.

Writes made through the ORM are recorded by session events, in the same
transaction as the write: a request's session carries its caller in
``session.info["principal"]``; inserts, changed columns and deletes of the
audited tables become ``AuditEvent`` rows at commit. Bulk UPDATE statements
bypass the ORM and call :func:`record` themselves. Values are never stored,
only field names, so the audit holds no personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlmodel import Session, SQLModel

from service.auth.principal import Principal
from service.models import (
    AllianceRun,
    ApiKey,
    AuditEvent,
    Contact,
    MatchRun,
    Opportunity,
    Organization,
    Profile,
    utcnow,
)

AUDITED: dict[type[SQLModel], str] = {
    Organization: "organization",
    Profile: "profile",
    Contact: "contact",
    MatchRun: "match_run",
    Opportunity: "opportunity",
    AllianceRun: "alliance_run",
    ApiKey: "api_key",
}
# Bookkeeping columns that change with every write and say nothing about it.
UNREMARKABLE = {"id", "version", "created_at", "updated_at", "name_folded", "last_used_at"}
_PENDING = "audit_pending"


def attach(session: Session, principal: Principal) -> None:
    """Record this session's writes as made by ``principal``."""
    session.info["principal"] = principal


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: int | None,
    fields: Iterable[str] = (),
) -> None:
    """Record a write the ORM does not see (bulk statements, erasures)."""
    principal: Principal | None = session.info.get("principal")
    if principal is not None:
        session.add(AuditEvent(**_event(principal, action, object_type, object_id, fields)))


def _event(
    principal: Principal,
    action: str,
    object_type: str,
    object_id: int | None,
    fields: Iterable[str],
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "key_id": principal.key_id,
        "key_name": principal.name,
        "role": principal.role,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "fields": sorted(fields),
    }


def _changed_fields(obj: Any) -> list[str]:
    state = inspect(obj)
    return sorted(
        attr.key
        for attr in state.attrs
        if attr.key not in UNREMARKABLE and attr.history.has_changes()
    )


def _set_fields(obj: Any) -> list[str]:
    return sorted(
        name
        for name in type(obj).model_fields
        if name not in UNREMARKABLE and getattr(obj, name, None) not in (None, [], {}, "")
    )


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: Any, _instances: Any) -> None:
    if "principal" not in session.info:
        return
    pending: list[tuple[str, Any, list[str]]] = session.info.setdefault(_PENDING, [])
    created = {id(obj) for action, obj, _ in pending if action == "create"}
    for obj in session.new:
        if type(obj) in AUDITED:
            pending.append(("create", obj, _set_fields(obj)))
    for obj in session.dirty:
        if type(obj) in AUDITED and id(obj) not in created:
            fields = _changed_fields(obj)
            if fields:
                pending.append(("update", obj, fields))
    for obj in session.deleted:
        if type(obj) in AUDITED:
            pending.append(("delete", obj, []))


@event.listens_for(Session, "before_commit")
def _write(session: Session) -> None:
    principal: Principal | None = session.info.get("principal")
    if principal is None:
        return
    session.flush()
    pending: list[tuple[str, Any, list[str]]] = session.info.pop(_PENDING, [])
    merged: dict[tuple[str, int], tuple[str, Any, set[str]]] = {}
    for action, obj, names in pending:
        key = (type(obj).__name__, id(obj))
        if key in merged and merged[key][0] == "create" and action == "update":
            continue  # changes while being created are part of the creation
        if key in merged and action == "update":
            merged[key][2].update(names)
            continue
        merged[key] = (action, obj, set(names))
    rows = [
        _event(principal, action, AUDITED[type(obj)], obj.id, fields)
        for action, obj, fields in merged.values()
    ]
    if rows:  # one INSERT for all: a bulk import writes thousands
        session.execute(insert(AuditEvent), rows)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
