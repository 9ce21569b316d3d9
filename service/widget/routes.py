"""HTTP routes the export-advisor widget calls from regional web sites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, status

from schemas.common import problem_responses
from schemas.widget import WidgetLead, WidgetLeadAccepted, WidgetSearch, WidgetSearchResults
from service.auth.policy import only
from service.auth.principal import Principal
from service.db import SessionDep
from service.engine import MatchEngineDep
from service.errors import Forbidden, TooManyRequests
from service.widget import service

router = APIRouter(prefix="/api/v1/widget", tags=["widget"])
WidgetKey = Annotated[Principal, only("widget")]


def _from_its_site(request: Request, principal: Principal) -> None:
    """Widget calls come from pages of the key's allowed origins, and each visitor
    address has its own budget (the key's is shared by every visitor)."""
    origin = request.headers.get("origin")
    if origin is None or origin not in principal.allowed_origins:
        raise Forbidden("the widget answers pages of its key's allowed origins only")
    resolver = request.app.state.key_resolver
    address = request.client.host if request.client else "-"
    per_minute = request.app.state.settings.widget_per_address_per_minute
    wait = resolver.limiter.take(f"widget:{principal.key_id}:{address}", per_minute)
    if wait > 0:
        raise TooManyRequests(
            f"at most {per_minute} requests a minute from one visitor",
            headers={"Retry-After": resolver.limiter.retry_after(wait)},
        )


@router.post(
    "/search",
    response_model=WidgetSearchResults,
    responses=problem_responses(403, 413, 422, 429, 503),
    summary="Search research partners (widget)",
)
def widget_search(
    body: WidgetSearch,
    request: Request,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: WidgetKey,
) -> WidgetSearchResults:
    """Research organisations whose public profiles answer the need, with a one-line
    why: public fields only. Widget keys, from their allowed origins."""
    _from_its_site(request, principal)
    return service.search(session, engine, principal, body)


@router.post(
    "/leads",
    status_code=status.HTTP_201_CREATED,
    response_model=WidgetLeadAccepted,
    responses=problem_responses(403, 404, 409, 413, 422, 429),
    summary="Ask the export advisor for an introduction (widget)",
)
def widget_lead(
    body: WidgetLead,
    request: Request,
    session: SessionDep,
    engine: MatchEngineDep,
    principal: WidgetKey,
) -> WidgetLeadAccepted:
    """Stores the visitor's firm (found by IČO when known; a lead never changes it) and
    opens a ``new`` opportunity with the chosen partner, source ``widget``, for the
    advisors of the region. ``consent`` must be true. 409 when the same firm already has
    an open request with that partner."""
    _from_its_site(request, principal)
    return service.lead(session, engine, principal, body)
