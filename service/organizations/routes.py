"""HTTP routes for organisations and profiles (thin: parse, call the service, shape)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from schemas.common import Country, Page, Region, problem_responses
from schemas.limits import DEFAULT_PAGE_SIZE, MAX_ID, MAX_PAGE_SIZE
from schemas.organizations import (
    OrganizationCreate,
    OrganizationKind,
    OrganizationRead,
    OrganizationUpdate,
    ProfileCreate,
    ProfileRead,
    ProfileUpdate,
)
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.engine import MatchEngineDep
from service.http import IfMatchHeader, decode_cursor, encode_cursor, set_etag
from service.organizations import service
from service.organizations.repository import OrganizationFilter

router = APIRouter(prefix="/api/v1", tags=["organizations"])

OrganizationId = Annotated[int, Path(ge=1, le=MAX_ID, description="Organisation id")]
ProfileId = Annotated[int, Path(ge=1, le=MAX_ID, description="Profile id")]
# Advisors change organisations of their regions, integrations the ones they registered.
Staff = Annotated[Principal, allow("advisor", "integration")]
AnyCaller = Annotated[Principal, allow("advisor", "integration", "widget")]


@router.post(
    "/organizations",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganizationRead,
    responses=problem_responses(409, 413, 422),
    summary="Register an organisation with its profiles",
)
def create_organization(
    body: OrganizationCreate,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: Staff,
    response: Response,
) -> OrganizationRead:
    """Store a company or research organisation; its profiles are embedded and matchable
    as soon as this returns."""
    created = service.create_organization(session, engine, principal, body)
    response.headers["Location"] = f"/api/v1/organizations/{created.id}"
    set_etag(response, created.version)
    return created


@router.get(
    "/organizations",
    response_model=Page[OrganizationRead],
    responses=problem_responses(422),
    summary="List organisations",
)
def list_organizations(
    session: SessionDep,
    principal: Staff,
    kind: OrganizationKind | None = None,
    region: Annotated[Region | None, Query(description="NUTS 3 code")] = None,
    country: Annotated[Country | None, Query(description="ISO 3166-1 alpha-2")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the name")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[OrganizationRead]:
    """Organisations in id order; pass ``next_cursor`` back as ``cursor`` for more."""
    items, last_id = service.list_organizations(
        session,
        principal,
        OrganizationFilter(kind=kind, region=region, country=country, q=q),
        after_id=decode_cursor(cursor),
        limit=limit,
    )
    return Page(items=items, next_cursor=None if last_id is None else encode_cursor(last_id))


@router.get(
    "/organizations/{organization_id}",
    response_model=OrganizationRead,
    responses=problem_responses(404),
    summary="Read an organisation",
)
def read_organization(
    organization_id: OrganizationId, session: SessionDep, principal: Staff, response: Response
) -> OrganizationRead:
    """One organisation with its profiles; the ETag carries its version."""
    found = service.read_organization(session, principal, organization_id)
    set_etag(response, found.version)
    return found


@router.patch(
    "/organizations/{organization_id}",
    response_model=OrganizationRead,
    responses=problem_responses(404, 409, 412, 413, 422),
    summary="Update an organisation",
)
def update_organization(
    organization_id: OrganizationId,
    body: OrganizationUpdate,
    session: SessionDep,
    principal: Staff,
    response: Response,
    if_match: IfMatchHeader = None,
) -> OrganizationRead:
    """Change the fields given; send ``If-Match`` with the version you read."""
    updated = service.update_organization(session, principal, organization_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/organizations/{organization_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 412),
    summary="Delete an organisation and its profiles",
)
def delete_organization(
    organization_id: OrganizationId,
    session: SessionDep,
    principal: Staff,
    if_match: IfMatchHeader = None,
) -> Response:
    """Deleted profiles are never returned by a match again; past match runs keep them."""
    service.delete_organization(session, principal, organization_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/organizations/{organization_id}/profiles",
    status_code=status.HTTP_201_CREATED,
    response_model=ProfileRead,
    responses=problem_responses(404, 413, 422),
    summary="Add a profile to an organisation",
)
def add_profile(
    organization_id: OrganizationId,
    body: ProfileCreate,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: Staff,
    response: Response,
) -> ProfileRead:
    """A further profile (offers and/or needs) of the organisation."""
    created = service.add_profile(session, engine, principal, organization_id, body)
    response.headers["Location"] = f"/api/v1/profiles/{created.id}"
    set_etag(response, created.version)
    return created


@router.get(
    "/profiles/{profile_id}",
    response_model=ProfileRead,
    responses=problem_responses(404),
    summary="Read a profile",
)
def read_profile(
    profile_id: ProfileId, session: SessionDep, principal: AnyCaller, response: Response
) -> ProfileRead:
    """One profile; the ETag carries its version."""
    found = service.read_profile(session, principal, profile_id)
    set_etag(response, found.version)
    return found


@router.patch(
    "/profiles/{profile_id}",
    response_model=ProfileRead,
    responses=problem_responses(404, 412, 413, 422),
    summary="Update a profile",
)
def update_profile(
    profile_id: ProfileId,
    body: ProfileUpdate,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: Staff,
    response: Response,
    if_match: IfMatchHeader = None,
) -> ProfileRead:
    """Change the fields given; changed texts are embedded again."""
    updated = service.update_profile(session, engine, principal, profile_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete(
    "/profiles/{profile_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 412),
    summary="Delete a profile",
)
def delete_profile(
    profile_id: ProfileId, session: SessionDep, principal: Staff, if_match: IfMatchHeader = None
) -> Response:
    """The profile leaves the index at once."""
    service.delete_profile(session, principal, profile_id, if_match)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
