"""Opportunities: opening, the pipeline, notes and the append-only history."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from schemas.opportunities import (
    ACTIVE_STATUSES,
    NoteCreate,
    OpportunityCreate,
    OpportunityEventRead,
    OpportunityMemberRead,
    OpportunityRead,
    OpportunityUpdate,
    allowed_moves,
)
from service import audit
from service.auth import access
from service.auth.principal import Principal
from service.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from service.http import check_if_match
from service.matches import repository as matches
from service.models import (
    AllianceRun,
    Opportunity,
    OpportunityEvent,
    OpportunityMember,
    Organization,
    utcnow,
)
from service.opportunities import repository
from service.opportunities.repository import OpportunityFilter
from service.webhooks import events as webhook_events


def _location(opportunity_id: int) -> str:
    return f"/api/v1/opportunities/{opportunity_id}"


def to_read(opportunity: Opportunity, members: list[OpportunityMember]) -> OpportunityRead:
    """The API view of an opportunity."""
    assert opportunity.id is not None
    return OpportunityRead(
        id=opportunity.id,
        status=opportunity.status,  # type: ignore[arg-type]
        version=opportunity.version,
        members=[
            OpportunityMemberRead.model_validate(member, from_attributes=True) for member in members
        ],
        region=opportunity.region,
        owner=opportunity.owner,
        due_date=opportunity.due_date,
        overdue=_overdue(opportunity, date.today()),
        source=opportunity.source,  # type: ignore[arg-type]
        match_run_id=opportunity.match_run_id,
        match_rank=opportunity.match_rank,
        score=opportunity.score,
        components=opportunity.components,
        decline_reason=opportunity.decline_reason,  # type: ignore[arg-type]
        created_at=opportunity.created_at,
        updated_at=opportunity.updated_at,
    )


def _overdue(opportunity: Opportunity, today: date) -> bool:
    return opportunity.active and opportunity.due_date is not None and opportunity.due_date < today


def _members_from_match(
    session: Session, principal: Principal, run_id: int, rank: int
) -> tuple[list[tuple[Organization, int | None]], dict[str, Any]]:
    found = matches.get_run(session, run_id)
    if found is None or not access.can_read_run(session, principal, found[0]):
        raise NotFound(f"match run {run_id} does not exist")
    run, results = found
    result = next((match for match in results if match.rank == rank), None)
    if result is None:
        raise InvalidInput.at("#/rank", f"match run {run_id} has no result at rank {rank}")
    if run.profile_id is None:
        raise InvalidInput.at(
            "#/match_run_id",
            f"match run {run_id} was made for free text: there is no source organisation to "
            "pair; register it and open the opportunity with profile_ids",
        )
    source = matches.organizations_of_profiles(session, [run.profile_id]).get(run.profile_id)
    target = session.get(Organization, result.organization["id"])
    if source is None or target is None:
        raise Conflict(f"an organisation of match run {run_id} rank {rank} no longer exists")
    origin = {
        "source": "match",
        "match_run_id": run_id,
        "match_rank": rank,
        "score": result.score,
        "components": result.components,
    }
    return [(source, run.profile_id), (target, result.profile_id)], origin


def _members_from_alliance(
    session: Session, principal: Principal, run_id: int, candidate: int
) -> tuple[list[tuple[Organization, int | None]], dict[str, Any]]:
    run = session.get(AllianceRun, run_id)
    if run is None or not access.can_read_alliance_run(principal, run):
        raise NotFound(f"alliance run {run_id} does not exist")
    if candidate > len(run.candidates):
        raise InvalidInput.at("#/candidate", f"alliance run {run_id} has no candidate {candidate}")
    group = run.candidates[candidate - 1]
    people = [*group["members"], *([group["research"]] if group.get("research") else [])]
    members: list[tuple[Organization, int | None]] = []
    for person in people:
        organization = session.get(Organization, person["organization"]["id"])
        if organization is None:
            raise Conflict(
                f"an organisation of alliance run {run_id} candidate {candidate} no longer exists"
            )
        members.append((organization, person["profile_id"]))
    origin = {
        "source": "alliance",
        "score": group["score"],
        "components": group["components"],
    }
    return members, origin


def _members_from_profiles(
    session: Session, principal: Principal, profile_ids: list[int]
) -> list[tuple[Organization, int | None]]:
    hidden = access.hidden_profile_ids(session, principal)
    organizations = matches.organizations_of_profiles(
        session, [pid for pid in profile_ids if pid not in hidden]
    )
    members: list[tuple[Organization, int | None]] = []
    seen: set[int] = set()
    for index, profile_id in enumerate(profile_ids):
        organization = organizations.get(profile_id)
        if organization is None:
            raise InvalidInput.at(f"#/profile_ids/{index}", f"profile {profile_id} does not exist")
        assert organization.id is not None
        if organization.id in seen:
            raise InvalidInput.at(
                f"#/profile_ids/{index}",
                f"profile {profile_id} belongs to an organisation already given",
            )
        seen.add(organization.id)
        members.append((organization, profile_id))
    return members


def _default_region(members: list[tuple[Organization, int | None]]) -> str | None:
    ordered = sorted(members, key=lambda item: item[0].kind != "company")  # companies first
    return next((org.region for org, _ in ordered if org.region), None)


def create(
    session: Session, principal: Principal, body: OpportunityCreate, actor: str
) -> OpportunityRead:
    """Open an opportunity; 409 with a link when these organisations already have an
    active one. An advisor opens them only in its regions."""
    if body.match_run_id is not None and body.rank is not None:
        members, origin = _members_from_match(session, principal, body.match_run_id, body.rank)
    elif body.alliance_run_id is not None and body.candidate is not None:
        members, origin = _members_from_alliance(
            session, principal, body.alliance_run_id, body.candidate
        )
    else:
        assert body.profile_ids is not None
        members = _members_from_profiles(session, principal, body.profile_ids)
        origin = {"source": "manual"}
    return open_with(
        session,
        principal,
        members,
        origin,
        region=body.region or _default_region(members),
        owner=body.owner,
        due_date=body.due_date,
        note=body.note,
        actor=actor,
    )


def open_with(
    session: Session,
    principal: Principal,
    members: list[tuple[Organization, int | None]],
    origin: dict[str, Any],
    *,
    region: str | None,
    owner: str | None = None,
    due_date: date | None = None,
    note: str | None = None,
    actor: str,
) -> OpportunityRead:
    """Open an opportunity of ``members`` (organisation, profile id); 409 with a link
    when they already have an active one."""
    access.require_region(principal, region)
    pair_key = ",".join(str(org_id) for org_id in sorted(org.id or 0 for org, _ in members))
    existing = repository.active_with_pair(session, pair_key)
    if existing is not None:
        raise _duplicate(principal, existing)
    opportunity = Opportunity(
        status="new",
        pair_key=pair_key,
        region=region,
        owner=owner,
        due_date=due_date,
        **origin,
    )
    session.add(opportunity)
    try:
        session.flush()
    except IntegrityError:  # opened concurrently by someone else
        session.rollback()
        raced = repository.active_with_pair(session, pair_key)
        if raced is None:
            raise
        raise _duplicate(principal, raced) from None
    assert opportunity.id is not None
    rows = [
        OpportunityMember(
            opportunity_id=opportunity.id,
            organization_id=org.id or 0,
            profile_id=profile_id,
            name=org.name,
            kind=org.kind,
            region=org.region,
            country=org.country,
        )
        for org, profile_id in members
    ]
    session.add_all(rows)
    session.add(
        OpportunityEvent(
            opportunity_id=opportunity.id,
            actor=actor,
            kind="created",
            to_value="new",
            text=note,
        )
    )
    session.flush()
    return to_read(opportunity, rows)


def _duplicate(principal: Principal, existing: Opportunity) -> Conflict:
    assert existing.id is not None
    if not principal.covers_region(existing.region):  # another region's: no link to it
        return Conflict("these organisations already have an active opportunity elsewhere")
    return Conflict(
        f"these organisations already have an active opportunity ({existing.status})",
        existing=_location(existing.id),
    )


def _require(session: Session, principal: Principal, opportunity_id: int) -> Opportunity:
    """The opportunity, or 404 when it does not exist or is outside the caller's regions."""
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None or not principal.covers_region(opportunity.region):
        raise NotFound(f"opportunity {opportunity_id} does not exist")
    return opportunity


def scoped(principal: Principal, where: OpportunityFilter) -> OpportunityFilter:
    """The filter narrowed to what the caller may see."""
    if principal.is_admin:
        return where
    return dataclasses.replace(where, within_regions=principal.regions)


def read(session: Session, principal: Principal, opportunity_id: int) -> OpportunityRead:
    """One opportunity with its members."""
    opportunity = _require(session, principal, opportunity_id)
    return to_read(opportunity, repository.members_of(session, [opportunity_id])[opportunity_id])


def list_page(
    session: Session,
    where: OpportunityFilter,
    *,
    sort: str,
    after: tuple[str | None, int] | None,
    limit: int,
) -> tuple[list[OpportunityRead], tuple[str | None, int] | None]:
    """A page of the queue and the (key, id) to continue after (None at the end)."""
    rows = repository.list_page(session, where, sort=sort, after=after, limit=limit + 1)
    page = rows[:limit]
    members = repository.members_of(session, [row.id for row in page if row.id])
    items = [to_read(row, members[row.id or 0]) for row in page]
    if len(rows) <= limit or not page:
        return items, None
    last = page[-1]
    return items, (repository.key_of(last, sort.lstrip("-")), last.id or 0)


def export_rows(
    engine: Engine, where: OpportunityFilter, *, sort: str, batch: int = 1_000
) -> Iterator[OpportunityRead]:
    """Every opportunity of the selection, fetched ``batch`` at a time in its own
    session, so an export of any size holds one batch in memory."""
    after: tuple[str | None, int] | None = None
    while True:
        with Session(engine) as session:
            items, after = list_page(session, where, sort=sort, after=after, limit=batch)
        yield from items
        if after is None:
            return


def _events_of_update(
    opportunity: Opportunity, body: OpportunityUpdate
) -> tuple[dict[str, Any], list[tuple[str, str | None, str | None]]]:
    """The column values an update sets and the events (kind, from, to) it makes."""
    values: dict[str, Any] = {}
    events: list[tuple[str, str | None, str | None]] = []
    given = body.model_fields_set
    if body.status is not None and body.status != opportunity.status:
        allowed = allowed_moves(opportunity.status)
        if body.status not in allowed:
            raise Conflict(
                f"an opportunity in '{opportunity.status}' cannot move to '{body.status}'"
                + (f"; allowed: {', '.join(allowed)}" if allowed else "; it is closed"),
                allowed=allowed,
            )
        values["status"] = body.status
        values["active"] = body.status in ACTIVE_STATUSES
        if body.decline_reason is not None:
            values["decline_reason"] = body.decline_reason
        events.append(("status", opportunity.status, body.status))
    if "owner" in given and body.owner != opportunity.owner:
        values["owner"] = body.owner
        events.append(("owner", opportunity.owner, body.owner))
    if "due_date" in given and body.due_date != opportunity.due_date:
        values["due_date"] = body.due_date
        events.append(
            (
                "due_date",
                None if opportunity.due_date is None else opportunity.due_date.isoformat(),
                None if body.due_date is None else body.due_date.isoformat(),
            )
        )
    return values, events


def update(
    session: Session,
    principal: Principal,
    opportunity_id: int,
    body: OpportunityUpdate,
    if_match: str,
    actor: str,
) -> OpportunityRead:
    """Apply a pipeline move, reassignment, due date and/or note against a known version."""
    opportunity = _require(session, principal, opportunity_id)
    check_if_match(if_match, opportunity.version)
    values, events = _events_of_update(opportunity, body)
    if body.note is not None:
        events.append(("note", None, None))
    if not events:
        return read(session, principal, opportunity_id)
    values["updated_at"] = utcnow()
    if not repository.update_if_version(session, opportunity_id, opportunity.version, values):
        session.rollback()
        current = _require(session, principal, opportunity_id)
        raise PreconditionFailed(
            f"the opportunity changed meanwhile (now version {current.version}); read it again",
            current_version=current.version,
        )
    session.add_all(
        OpportunityEvent(
            opportunity_id=opportunity_id,
            actor=actor,
            kind=kind,
            from_value=from_value,
            to_value=to_value,
            text=body.note if kind in {"note", "status"} and body.note is not None else None,
        )
        for kind, from_value, to_value in _note_last(events, body)
    )
    audit.record(
        session, "update", "opportunity", opportunity_id, sorted({*values} - {"updated_at"})
    )
    if "status" in values:
        _announce_status(session, opportunity_id, opportunity.status, values["status"])
    session.flush()
    session.expire(opportunity)
    return read(session, principal, opportunity_id)


def _announce_status(session: Session, opportunity_id: int, before: str, after: str) -> None:
    """``opportunity.status_changed`` for the partners who registered a member."""
    members = repository.members_of(session, [opportunity_id])[opportunity_id]
    owners = {
        org.created_by_key_id
        for member in members
        if (org := session.get(Organization, member.organization_id)) is not None
        and org.created_by_key_id is not None
    }
    payload = {
        "opportunity_id": opportunity_id,
        "from": before,
        "to": after,
        "organization_ids": [member.organization_id for member in members],
    }
    webhook_events.emit(
        session, "opportunity.status_changed", "opportunity", opportunity_id, payload, owners
    )


def _note_last(
    events: list[tuple[str, str | None, str | None]], body: OpportunityUpdate
) -> list[tuple[str, str | None, str | None]]:
    """A note that explains a status change rides on that event instead of its own."""
    if body.note is not None and any(kind == "status" for kind, _, _ in events):
        return [event for event in events if event[0] != "note"]
    return events


def add_note(
    session: Session, principal: Principal, opportunity_id: int, body: NoteCreate, actor: str
) -> OpportunityEventRead:
    """Append a note; notes do not change the opportunity's version."""
    _require(session, principal, opportunity_id)
    event = OpportunityEvent(
        opportunity_id=opportunity_id, actor=actor, kind="note", text=body.text
    )
    session.add(event)
    audit.record(session, "note", "opportunity", opportunity_id, ["notes"])
    session.flush()
    return OpportunityEventRead.model_validate(event, from_attributes=True)


def events(
    session: Session, principal: Principal, opportunity_id: int, *, after_id: int, limit: int
) -> tuple[list[OpportunityEventRead], int | None]:
    """A page of the history, oldest first."""
    _require(session, principal, opportunity_id)
    rows = repository.events_of(session, opportunity_id, after_id=after_id, limit=limit + 1)
    page = rows[:limit]
    items = [OpportunityEventRead.model_validate(row, from_attributes=True) for row in page]
    return items, (page[-1].id if len(rows) > limit and page else None)
