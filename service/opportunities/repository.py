"""Queries on opportunities, their members and events."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, exists, func, or_, update
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service.models import Opportunity, OpportunityEvent, OpportunityMember


@dataclass(frozen=True)
class OpportunityFilter:
    """Filters of the opportunity queue (None: no filter)."""

    statuses: Sequence[str] | None = None
    region: str | None = None
    owner: str | None = None
    organization_id: int | None = None
    overdue_on: date | None = None  # active and due before this day
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    within_regions: frozenset[str] | None = None  # what the caller may see


def active_with_pair(session: Session, pair_key: str) -> Opportunity | None:
    """The active opportunity of exactly these organisations, if any."""
    return session.exec(
        select(Opportunity).where(Opportunity.pair_key == pair_key, col(Opportunity.active))
    ).first()


def members_of(session: Session, ids: Sequence[int]) -> dict[int, list[OpportunityMember]]:
    """Members of each opportunity, in the order they were added."""
    found: dict[int, list[OpportunityMember]] = defaultdict(list)
    if ids:
        rows = session.exec(
            select(OpportunityMember)
            .where(col(OpportunityMember.opportunity_id).in_(ids))
            .order_by(col(OpportunityMember.id))
        )
        for member in rows:
            found[member.opportunity_id].append(member)
    return found


SORTS = ("id", "created_at", "updated_at", "due_date")
_NO_DUE_DATE = date(9999, 12, 31)  # sorts after every real due date


def sort_key(name: str) -> ColumnElement[Any]:
    """The column expression a queue sorts by (``name`` without its ``-``)."""
    if name == "due_date":
        return func.coalesce(col(Opportunity.due_date), _NO_DUE_DATE)
    return cast("ColumnElement[Any]", col(getattr(Opportunity, name)))


def key_of(opportunity: Opportunity, name: str) -> str | None:
    """The cursor key of a row in ``name`` order (None for id order)."""
    if name == "id":
        return None
    if name == "due_date":
        return (opportunity.due_date or _NO_DUE_DATE).isoformat()
    return str(getattr(opportunity, name).isoformat())


def _parse_key(name: str, key: str | None) -> Any:
    if name == "due_date":
        return date.fromisoformat(key or "")
    return datetime.fromisoformat(key or "")


def _filtered(where: OpportunityFilter) -> SelectOfScalar[Opportunity]:
    statement = select(Opportunity)
    if where.statuses:
        statement = statement.where(col(Opportunity.status).in_(where.statuses))
    if where.region is not None:
        statement = statement.where(Opportunity.region == where.region)
    if where.within_regions is not None:
        statement = statement.where(col(Opportunity.region).in_(sorted(where.within_regions)))
    if where.owner is not None:
        statement = statement.where(Opportunity.owner == where.owner)
    if where.organization_id is not None:
        statement = statement.where(
            exists().where(
                col(OpportunityMember.opportunity_id) == col(Opportunity.id),
                col(OpportunityMember.organization_id) == where.organization_id,
            )
        )
    if where.overdue_on is not None:
        statement = statement.where(
            col(Opportunity.active), col(Opportunity.due_date) < where.overdue_on
        )
    for column, low, high in (
        (Opportunity.created_at, where.created_from, where.created_to),
        (Opportunity.updated_at, where.updated_from, where.updated_to),
    ):
        if low is not None:
            statement = statement.where(col(column) >= low)
        if high is not None:
            statement = statement.where(col(column) < high)
    return statement


def list_page(
    session: Session,
    where: OpportunityFilter,
    *,
    sort: str = "id",
    after: tuple[str | None, int] | None = None,
    limit: int,
) -> list[Opportunity]:
    """One page of the queue in ``sort`` order (``-`` for descending; ties by id in the
    same direction), after the row (key, id) of the previous page."""
    name = sort.lstrip("-")
    descending = sort.startswith("-")
    key = sort_key(name)
    identity = col(Opportunity.id)
    statement = _filtered(where)
    if after is not None:
        last_key, last_id = after
        if name == "id":
            statement = statement.where(identity < last_id if descending else identity > last_id)
        else:
            value = _parse_key(name, last_key)
            beyond = key < value if descending else key > value
            next_id = identity < last_id if descending else identity > last_id
            statement = statement.where(or_(beyond, and_(key == value, next_id)))
    order: tuple[Any, ...] = (
        (key.desc(), identity.desc()) if descending else (key.asc(), identity.asc())
    )
    if name == "id":
        order = order[1:]
    return list(session.exec(statement.order_by(*order).limit(limit)))


def update_if_version(
    session: Session, opportunity_id: int, version: int, values: dict[str, Any]
) -> bool:
    """Apply ``values`` and bump the version only if it is still ``version``.

    The check and the write are one statement, so of two concurrent writers of
    the same version exactly one succeeds, on SQLite and PostgreSQL alike.
    """
    result = session.execute(
        update(Opportunity)
        .where(col(Opportunity.id) == opportunity_id, col(Opportunity.version) == version)
        .values(**values, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def events_of(
    session: Session, opportunity_id: int, *, after_id: int, limit: int
) -> list[OpportunityEvent]:
    """A page of an opportunity's history, oldest first."""
    return list(
        session.exec(
            select(OpportunityEvent)
            .where(
                OpportunityEvent.opportunity_id == opportunity_id,
                col(OpportunityEvent.id) > after_id,
            )
            .order_by(col(OpportunityEvent.id))
            .limit(limit)
        )
    )
