"""Rules for organisations and profiles: validation across fields, versions, vectors.

Every write embeds the new or changed facets *before* touching the database
(embedding is slow; the write transaction stays short), then stores rows,
vectors and a change-log entry in the request's one transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from matching.text import fold
from schemas import codes
from schemas.organizations import (
    ContactFields,
    ContactRead,
    OrganizationCreate,
    OrganizationRead,
    OrganizationUpdate,
    ProfileCreate,
    ProfileRead,
    ProfileUpdate,
)
from service import vector_store
from service.auth import access
from service.auth.principal import Principal
from service.een import mapping as een
from service.engine import MatchEngine
from service.errors import Conflict, InvalidInput, NotFound
from service.http import check_if_match
from service.models import Contact, Organization, Profile, utcnow
from service.organizations import repository


def to_read(
    principal: Principal,
    organization: Organization,
    profiles: list[Profile],
    contacts: list[Contact],
) -> OrganizationRead:
    """The API view of an organisation as this caller may see it: contacts and private
    profiles only for callers who may change it."""
    full = access.full_view(principal, organization)
    return OrganizationRead.model_validate(
        {
            **organization.model_dump(),
            "contacts": (
                [ContactRead.model_validate(c, from_attributes=True) for c in contacts]
                if full
                else None
            ),
            "profiles": [profile_read(p, full=full) for p in profiles if full or p.public],
        }
    )


def _read_view(
    session: Session, principal: Principal, organizations: list[Organization]
) -> list[OrganizationRead]:
    ids = [o.id for o in organizations if o.id]
    profiles = repository.profiles_of(session, ids)
    contacts = repository.contacts_of(session, ids)
    return [to_read(principal, o, profiles[o.id], contacts[o.id]) for o in organizations if o.id]


def replace_contacts(
    session: Session, organization_id: int, contacts: Sequence[ContactFields]
) -> bool:
    """Make the organisation's contacts exactly ``contacts``; False (and nothing
    written) when they already are."""
    current = repository.contacts_of(session, [organization_id])[organization_id]
    if same_contacts(current, contacts):
        return False
    for old in current:
        session.delete(old)
    session.add_all(
        Contact(organization_id=organization_id, **contact.model_dump()) for contact in contacts
    )
    session.flush()
    return True


def same_contacts(stored: Sequence[Contact], contacts: Sequence[ContactFields]) -> bool:
    """True when the stored contacts are exactly ``contacts``, in order."""
    fields = list(ContactFields.model_fields)
    return [{name: getattr(contact, name) for name in fields} for contact in stored] == [
        contact.model_dump() for contact in contacts
    ]


def profile_read(profile: Profile, *, full: bool = True) -> ProfileRead:
    """The API view of a profile."""
    read = ProfileRead.model_validate(profile, from_attributes=True)
    if not full and profile.source == "een" and profile.details is not None:
        read.details = een.shared_details(profile.details)
    return read


def _require_organization(
    session: Session, principal: Principal, organization_id: int, *, change: bool = False
) -> Organization:
    """The organisation if this caller may see it (else 404), and change it (else 403)."""
    organization = repository.get_organization(session, organization_id)
    if organization is None or not access.can_read_organization(principal, organization):
        raise NotFound(f"organization {organization_id} does not exist")
    if change:
        access.require_change(principal, organization)
    return organization


def _require_profile(
    session: Session, principal: Principal, profile_id: int, *, change: bool = False
) -> Profile:
    """The profile if this caller may see it (else 404), and change it (else 403)."""
    profile = repository.get_profile(session, profile_id)
    organization = (
        None if profile is None else repository.get_organization(session, profile.organization_id)
    )
    if (
        profile is None
        or organization is None
        or not access.can_read_profile(principal, profile, organization)
    ):
        raise NotFound(f"profile {profile_id} does not exist")
    if change:
        access.require_change(principal, organization)
    return profile


def _refuse_duplicate(
    session: Session, *, ico: str | None, ror: str | None, exclude_id: int | None = None
) -> None:
    existing = repository.find_by_identifier(session, ico=ico, ror=ror, exclude_id=exclude_id)
    if existing is not None:
        which = "IČO" if ico is not None and existing.ico == ico else "ROR id"
        raise Conflict(
            f"organization {existing.id} ({existing.name}) already has this {which}",
            existing=f"/api/v1/organizations/{existing.id}",
        )


def _changes(body: BaseModel, *, not_null: tuple[str, ...]) -> dict[str, Any]:
    """The fields a PATCH sets; ``null`` is refused for fields that must have a value."""
    changes = body.model_dump(exclude_unset=True)
    for name in not_null:
        if name in changes and changes[name] is None:
            raise InvalidInput.at(f"#/{name}", "cannot be null")
    return changes


def _flush(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent writer won the unique check
        raise Conflict("an organization with this IČO or ROR id already exists") from exc


def _store_profile(
    session: Session,
    engine: MatchEngine,
    organization_id: int,
    fields: dict[str, Any],
    embedded: dict[str, Any],
) -> Profile:
    profile = Profile(organization_id=organization_id, **fields)
    session.add(profile)
    session.flush()
    vector_store.write_vectors(session, profile, embedded, engine.model_id)
    return profile


def _embed_new(engine: MatchEngine, profiles: list[ProfileCreate]) -> list[dict[str, Any]]:
    """Facet embeddings of new profiles, one encode call for all."""
    facets = [
        (index, facet, text)
        for index, body in enumerate(profiles)
        for facet, text in (("offers", body.offers), ("needs", body.needs))
        if text
    ]
    embeddings = engine.embed([text for _, _, text in facets])
    result: list[dict[str, Any]] = [{} for _ in profiles]
    for (index, facet, _), embedding in zip(facets, embeddings, strict=True):
        result[index][facet] = embedding
    return result


def create_organization(
    session: Session, engine: MatchEngine, principal: Principal, body: OrganizationCreate
) -> OrganizationRead:
    """Store a new organisation with its profiles, embedded and indexed."""
    access.require_region(principal, body.region)
    _refuse_duplicate(session, ico=body.ico, ror=body.ror)
    embedded = _embed_new(engine, body.profiles)
    fields = body.model_dump(exclude={"profiles", "contacts"})
    organization = Organization(
        **fields, name_folded=fold(body.name), created_by_key_id=principal.key_id
    )
    session.add(organization)
    _flush(session)
    assert organization.id is not None
    profiles = [
        _store_profile(session, engine, organization.id, profile.model_dump(), vectors)
        for profile, vectors in zip(body.profiles, embedded, strict=True)
    ]
    replace_contacts(session, organization.id, body.contacts)
    vector_store.record_changes(session, [p.id for p in profiles if p.id])
    [created] = _read_view(session, principal, [organization])
    return created


def read_organization(
    session: Session, principal: Principal, organization_id: int
) -> OrganizationRead:
    """One organisation with its profiles, as this caller may see it."""
    [found] = _read_view(
        session, principal, [_require_organization(session, principal, organization_id)]
    )
    return found


def list_organizations(
    session: Session,
    principal: Principal,
    filters: repository.OrganizationFilter,
    *,
    after_id: int,
    limit: int,
) -> tuple[list[OrganizationRead], int | None]:
    """A page of organisations and the id the next page starts after (None at the end);
    an integration key lists the organisations it registered."""
    if principal.role == "integration":
        filters = dataclasses.replace(filters, created_by_key_id=principal.key_id)
    rows = repository.list_organizations(session, filters, after_id=after_id, limit=limit + 1)
    page, more = rows[:limit], len(rows) > limit
    return _read_view(session, principal, page), (page[-1].id if more else None)


def update_organization(
    session: Session,
    principal: Principal,
    organization_id: int,
    body: OrganizationUpdate,
    if_match: str | None,
) -> OrganizationRead:
    """Apply a partial update; profiles are re-indexed when region or country change."""
    organization = _require_organization(session, principal, organization_id, change=True)
    check_if_match(if_match, organization.version)
    changes = _changes(body, not_null=("name", "country", "contacts"))
    contacts = body.contacts if "contacts" in changes else None
    changes.pop("contacts", None)
    country = changes.get("country", organization.country)
    region = changes.get("region", organization.region)
    if region is not None:
        try:
            codes.normalize_region(region, country)
        except ValueError as exc:
            raise InvalidInput.at("#/region", str(exc)) from exc
    access.require_region(principal, region)
    _refuse_duplicate(
        session,
        ico=changes.get("ico"),
        ror=changes.get("ror"),
        exclude_id=organization.id,
    )
    for name, value in changes.items():
        setattr(organization, name, value)
    organization.name_folded = fold(organization.name)
    organization.version += 1
    organization.updated_at = utcnow()
    session.add(organization)
    _flush(session)
    assert organization.id is not None
    if contacts is not None:
        replace_contacts(session, organization.id, contacts)
    profiles = repository.profiles_of(session, [organization.id])[organization.id]
    vector_store.record_changes(session, [p.id for p in profiles if p.id])
    [updated] = _read_view(session, principal, [organization])
    return updated


def delete_organization(
    session: Session, principal: Principal, organization_id: int, if_match: str | None
) -> None:
    """Delete an organisation, its profiles and their vectors."""
    organization = _require_organization(session, principal, organization_id, change=True)
    check_if_match(if_match, organization.version)
    assert organization.id is not None
    profiles = repository.profiles_of(session, [organization.id])[organization.id]
    vector_store.record_changes(session, [p.id for p in profiles if p.id])
    session.delete(organization)
    session.flush()


def add_profile(
    session: Session,
    engine: MatchEngine,
    principal: Principal,
    organization_id: int,
    body: ProfileCreate,
) -> ProfileRead:
    """Add a profile to an organisation."""
    organization = _require_organization(session, principal, organization_id, change=True)
    assert organization.id is not None
    [embedded] = _embed_new(engine, [body])
    profile = _store_profile(session, engine, organization.id, body.model_dump(), embedded)
    assert profile.id is not None
    vector_store.record_changes(session, [profile.id])
    return profile_read(profile)


def read_profile(session: Session, principal: Principal, profile_id: int) -> ProfileRead:
    """One profile (private ones only for callers who may change its organisation)."""
    profile = _require_profile(session, principal, profile_id)
    organization = repository.get_organization(session, profile.organization_id)
    assert organization is not None
    return profile_read(profile, full=access.full_view(principal, organization))


def update_profile(
    session: Session,
    engine: MatchEngine,
    principal: Principal,
    profile_id: int,
    body: ProfileUpdate,
    if_match: str | None,
) -> ProfileRead:
    """Apply a partial update and re-embed the facets whose text changed."""
    profile = _require_profile(session, principal, profile_id, change=True)
    check_if_match(if_match, profile.version)
    changes = _changes(body, not_null=("offers", "needs", "keywords", "markets", "public"))
    offers = changes.get("offers", profile.offers)
    needs = changes.get("needs", profile.needs)
    if not offers and not needs:
        raise InvalidInput.at("#/offers", "offers and needs cannot both be empty")
    for name, value in changes.items():
        setattr(profile, name, value)
    assert profile.id is not None
    rows = vector_store.vector_rows(session, [profile.id])[profile.id]
    stale = vector_store.stale_facets(profile, rows, engine.model_id)
    embedded = dict(zip(stale, engine.embed(list(stale.values())), strict=True))
    profile.version += 1
    profile.updated_at = utcnow()
    session.add(profile)
    session.flush()
    vector_store.write_vectors(session, profile, embedded, engine.model_id, rows)
    vector_store.record_changes(session, [profile.id])
    return profile_read(profile)


def delete_profile(
    session: Session, principal: Principal, profile_id: int, if_match: str | None
) -> None:
    """Delete a profile and its vectors."""
    profile = _require_profile(session, principal, profile_id, change=True)
    check_if_match(if_match, profile.version)
    assert profile.id is not None
    vector_store.record_changes(session, [profile.id])
    session.delete(profile)
    session.flush()
