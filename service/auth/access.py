"""Object-level rules: which organisations, profiles and regions a caller may see or change.

Not being allowed to see an object reads as 404 (its existence does not leak);
seeing it but not being allowed to change it reads as 403.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from matching.catalog import PrivateAccess
from service.auth.principal import Principal
from service.errors import Forbidden
from service.models import AllianceRun, MatchRun, Organization, Profile


def full_view(principal: Principal, organization: Organization) -> bool:
    """May see everything of the organisation (contacts, private profiles) and change it."""
    if principal.is_admin:
        return True
    if principal.role == "advisor":
        return organization.region in principal.regions
    if principal.role == "integration":
        return principal.created(organization.created_by_key_id)
    return False


def can_read_organization(principal: Principal, organization: Organization) -> bool:
    """Admins and advisors read every organisation; integrations the ones they made."""
    return principal.role == "advisor" or full_view(principal, organization)


def can_read_profile(principal: Principal, profile: Profile, organization: Organization) -> bool:
    """Public profiles are for every caller; private ones need the full view."""
    return profile.public or full_view(principal, organization)


def require_change(principal: Principal, organization: Organization) -> None:
    """403 unless the caller may change this (visible) organisation."""
    if not full_view(principal, organization):
        raise Forbidden(_outside(principal, organization.region))


def require_region(principal: Principal, region: str | None, pointer: str = "#/region") -> None:
    """403 unless an advisor works in ``region`` (others pass)."""
    if principal.role == "advisor" and region not in principal.regions:
        raise Forbidden(_outside(principal, region), errors=[{"pointer": pointer}])


def _outside(principal: Principal, region: str | None) -> str:
    if principal.role == "advisor":
        return (
            f"region {region or '(none)'} is outside this key's regions "
            f"({', '.join(sorted(principal.regions)) or 'none'})"
        )
    return f"this {principal.role} key may only change what it created"


def own_organizations(principal: Principal) -> Any:
    """A subquery of the organisation ids an integration key registered."""
    return select(Organization.id).where(Organization.created_by_key_id == principal.key_id)


def hidden_profile_ids(session: Session, principal: Principal) -> frozenset[int]:
    """Private profiles this caller may not see (so a match must not return them)."""
    if principal.is_admin:
        return frozenset()
    statement = (
        select(Profile.id)
        .join(Organization, col(Profile.organization_id) == col(Organization.id))
        .where(col(Profile.public).is_(False))
    )
    if principal.role == "advisor" and principal.regions:
        statement = statement.where(
            or_(
                col(Organization.region).is_(None),
                col(Organization.region).not_in(sorted(principal.regions)),
            )
        )
    elif principal.role == "integration":
        statement = statement.where(
            or_(
                col(Organization.created_by_key_id).is_(None),
                col(Organization.created_by_key_id) != principal.key_id,
            )
        )
    return frozenset(pid for pid in session.exec(statement) if pid is not None)


def private_access(principal: Principal) -> PrivateAccess:
    """The private profiles this caller may see in match results (as
    :func:`hidden_profile_ids` hides the others)."""
    if principal.is_admin:
        return PrivateAccess(everything=True)
    if principal.role == "advisor":
        return PrivateAccess(regions=principal.regions)
    if principal.role == "integration":
        return PrivateAccess(key_id=principal.key_id)
    return PrivateAccess()


def visible_runs(principal: Principal) -> Any:
    """A WHERE clause of the match runs this caller may read: its own, and runs for
    organisations of its regions (advisor) or that it registered (integration)."""
    own = col(MatchRun.created_by_key_id) == principal.key_id
    if principal.role == "advisor":
        return or_(own, col(MatchRun.source_region).in_(sorted(principal.regions)))
    if principal.role == "integration":
        return or_(own, col(MatchRun.source_organization_id).in_(own_organizations(principal)))
    return own


def can_read_run(session: Session, principal: Principal, run: MatchRun) -> bool:
    """True when ``run`` is one of ``visible_runs``."""
    if principal.is_admin or principal.created(run.created_by_key_id):
        return True
    if principal.role == "advisor":
        return run.source_region in principal.regions
    if principal.role == "integration" and run.source_organization_id is not None:
        organization = session.get(Organization, run.source_organization_id)
        return organization is not None and principal.created(organization.created_by_key_id)
    return False


def can_read_alliance_run(principal: Principal, run: AllianceRun) -> bool:
    """Admins read every run; an advisor its own and those kept within its regions."""
    if principal.is_admin or principal.created(run.created_by_key_id):
        return True
    regions = run.request.get("regions") or []
    return principal.role == "advisor" and bool(regions) and set(regions) <= principal.regions


def advisor_regions(principal: Principal, regions: list[str] | None) -> list[str] | None:
    """The regions a search covers: an advisor's own when none are given; 403 for others."""
    if principal.role != "advisor":
        return regions
    if regions is None:
        return sorted(principal.regions)
    for index, region in enumerate(regions):
        require_region(principal, region, f"#/regions/{index}")
    return regions
