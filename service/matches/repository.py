"""Queries on match runs and their results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from service.models import Match, MatchRun, Organization, Profile, utcnow

# Statements built once: the match path asks them on every match, where building one
# costs about as much as running it.
_ORGANIZATIONS_OF_PROFILES = (
    select(Profile.id, Organization)
    .join(Organization, col(Profile.organization_id) == col(Organization.id))
    .where(col(Profile.id).in_(bindparam("ids", expanding=True)))
)
_PROFILE_WITH_ORGANIZATION = (
    select(Profile, Organization)
    .join(Organization, col(Profile.organization_id) == col(Organization.id))
    .where(col(Profile.id) == bindparam("id"))
)


def organizations_of_profiles(
    session: Session, profile_ids: Sequence[int]
) -> dict[int, Organization]:
    """The organisation of each profile, by profile id."""
    if not profile_ids:
        return {}
    rows = session.execute(_ORGANIZATIONS_OF_PROFILES, {"ids": list(profile_ids)})
    return {int(pid): organization for pid, organization in rows if pid}


def profile_with_organization(
    session: Session, profile_id: int
) -> tuple[Profile, Organization] | None:
    """One profile and its organisation, in one query (None when it does not exist)."""
    found = session.execute(_PROFILE_WITH_ORGANIZATION, {"id": profile_id}).first()
    return None if found is None else (found[0], found[1])


def expired_profile_ids(session: Session) -> frozenset[int]:
    """Profiles past their ``valid_until`` (expired or archived EEN profiles): kept,
    never matched."""
    statement = select(Profile.id).where(col(Profile.valid_until) <= utcnow())
    return frozenset(pid for pid in session.exec(statement) if pid is not None)


def get_run(session: Session, run_id: int) -> tuple[MatchRun, list[Match]] | None:
    """A run and its results in rank order."""
    run = session.get(MatchRun, run_id)
    if run is None:
        return None
    matches = session.exec(
        select(Match).where(Match.run_id == run_id).order_by(col(Match.rank))
    ).all()
    return run, list(matches)


def list_runs(
    session: Session, *, profile_id: int | None, before_id: int, limit: int, visible: Any = None
) -> list[tuple[MatchRun, int]]:
    """Runs newest first, with their result counts; ``visible`` narrows them (a WHERE
    clause)."""
    counts = select(Match.run_id, func.count().label("n")).group_by(col(Match.run_id)).subquery()
    statement = select(MatchRun, func.coalesce(counts.c.n, 0)).outerjoin(
        counts, counts.c.run_id == col(MatchRun.id)
    )
    if visible is not None:
        statement = statement.where(visible)
    if profile_id is not None:
        statement = statement.where(MatchRun.profile_id == profile_id)
    if before_id:
        statement = statement.where(col(MatchRun.id) < before_id)
    statement = statement.order_by(col(MatchRun.id).desc()).limit(limit)
    return [(run, int(count)) for run, count in session.exec(statement)]
