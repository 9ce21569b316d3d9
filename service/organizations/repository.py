"""Queries on organisations and profiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlmodel import Session, col, select

from matching.text import fold
from service.models import Contact, Organization, Profile


def get_organization(session: Session, organization_id: int) -> Organization | None:
    """One organisation by id."""
    return session.get(Organization, organization_id)


def get_profile(session: Session, profile_id: int) -> Profile | None:
    """One profile by id."""
    return session.get(Profile, profile_id)


_Owned = TypeVar("_Owned", Profile, Contact)


def _by_organization(
    session: Session, model: type[_Owned], organization_ids: Sequence[int]
) -> dict[int, list[_Owned]]:
    """Rows of ``model`` belonging to several organisations, by organisation id, in id
    order."""
    found: dict[int, list[_Owned]] = {oid: [] for oid in organization_ids}
    if organization_ids:
        statement = (
            select(model)
            .where(col(model.organization_id).in_(organization_ids))
            .order_by(col(model.id))
        )
        for row in session.exec(statement):
            found[row.organization_id].append(row)
    return found


def profiles_of(session: Session, organization_ids: Sequence[int]) -> dict[int, list[Profile]]:
    """Profiles of several organisations, by organisation id, oldest first."""
    return _by_organization(session, Profile, organization_ids)


def contacts_of(session: Session, organization_ids: Sequence[int]) -> dict[int, list[Contact]]:
    """Contacts of several organisations, by organisation id, in id order."""
    return _by_organization(session, Contact, organization_ids)


def find_by_identifier(
    session: Session, *, ico: str | None, ror: str | None, exclude_id: int | None = None
) -> Organization | None:
    """An organisation already holding this IČO or ROR id."""
    for column, value in ((Organization.ico, ico), (Organization.ror, ror)):
        if value is None:
            continue
        statement = select(Organization).where(column == value)
        if exclude_id is not None:
            statement = statement.where(col(Organization.id) != exclude_id)
        found = session.exec(statement).first()
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class OrganizationFilter:
    """What a list of organisations is narrowed to; None means any."""

    kind: str | None = None
    region: str | None = None
    country: str | None = None
    q: str | None = None
    created_by_key_id: int | None = None


def list_organizations(
    session: Session, filters: OrganizationFilter, *, after_id: int, limit: int
) -> list[Organization]:
    """A page of organisations by id, filtered; ``q`` matches the name, accents ignored."""
    statement = select(Organization).where(col(Organization.id) > after_id)
    for column, value in (
        (Organization.kind, filters.kind),
        (Organization.region, filters.region),
        (Organization.country, filters.country),
        (Organization.created_by_key_id, filters.created_by_key_id),
    ):
        if value is not None:
            statement = statement.where(column == value)
    if q := filters.q:
        pattern = "%" + fold(q).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(col(Organization.name_folded).like(pattern, escape="\\"))
    return list(session.exec(statement.order_by(col(Organization.id)).limit(limit)))
