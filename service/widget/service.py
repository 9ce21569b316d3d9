"""Widget search (public profiles, public fields) and leads (opportunities for advisors)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from schemas.matches import MatchRequest, MatchResult
from schemas.organizations import OrganizationCreate
from schemas.widget import (
    WidgetLead,
    WidgetLeadAccepted,
    WidgetOrganization,
    WidgetResult,
    WidgetSearch,
    WidgetSearchResults,
)
from service.auth.principal import Principal
from service.engine import MatchEngine
from service.errors import InvalidInput, NotFound
from service.matches import service as matches
from service.models import Organization, Profile
from service.opportunities import service as opportunities
from service.organizations import service as organizations

VISITOR = "website visitor"
WHY_CHARS = 160


def search(
    session: Session, engine: MatchEngine, principal: Principal, body: WidgetSearch
) -> WidgetSearchResults:
    """Research partners for a visitor's need: public profiles, public fields."""
    run = matches.run_match(
        session,
        engine,
        principal,
        MatchRequest(
            text=body.text,
            target="research",
            limit=body.limit,
            regions=None if body.region is None else [body.region],
            fields=None if body.field is None else [body.field],
        ),
    )
    ids = [result.profile_id for result in run.results]
    titles = dict(
        session.exec(select(Profile.id, Profile.title).where(col(Profile.id).in_(ids))).all()
    )
    return WidgetSearchResults(
        run_id=run.run_id,
        results=[_result(result, titles.get(result.profile_id)) for result in run.results],
        note=run.note,
    )


def _result(result: MatchResult, title: str | None) -> WidgetResult:
    return WidgetResult(
        profile_id=result.profile_id,
        organization=WidgetOrganization.model_validate(result.organization.model_dump()),
        title=title,
        why=_why(result),
        score=result.score,
    )


def _why(result: MatchResult) -> str:
    """One line: the partner's own sentence that best answers the need (the summary's
    start when no sentence pair explains the match)."""
    evidence = result.explanation.need_offer
    line = evidence.offer_sentence if evidence else result.explanation.summary
    line = " ".join(line.split())
    if len(line) <= WHY_CHARS:
        return line
    return line[: WHY_CHARS - 1].rsplit(" ", 1)[0] + "…"


def lead(
    session: Session, engine: MatchEngine, principal: Principal, body: WidgetLead
) -> WidgetLeadAccepted:
    """Store the visitor's firm (or find it by IČO) and open a ``new`` opportunity with
    the chosen partner for the region's advisors (source ``widget``)."""
    region = _lead_region(principal, body.region)
    partner = session.get(Profile, body.profile_id)
    owner = None if partner is None else session.get(Organization, partner.organization_id)
    if partner is None or owner is None or not partner.public:
        raise NotFound(f"profile {body.profile_id} does not exist")
    firm = _visitor_firm(session, engine, principal, body, region)
    opened = opportunities.open_with(
        session,
        principal,
        [(firm, None), (owner, partner.id)],
        {"source": "widget"},
        region=region,
        note=f"Request from the web site: {body.need}",
        actor=principal.name,
    )
    return WidgetLeadAccepted(lead_id=opened.id, region=region, status="new")


def _lead_region(principal: Principal, given: str | None) -> str:
    if given is not None:
        if principal.regions and given not in principal.regions:
            raise InvalidInput.at(
                "#/region", f"this widget's leads go to {', '.join(sorted(principal.regions))}"
            )
        return given
    if principal.regions:
        return sorted(principal.regions)[0]
    raise InvalidInput.at("#/region", "give the region whose advisors should get the lead")


def _visitor_firm(
    session: Session,
    engine: MatchEngine,
    principal: Principal,
    body: WidgetLead,
    region: str,
) -> Organization:
    if body.ico is not None:
        known = session.exec(select(Organization).where(Organization.ico == body.ico)).first()
        if known is not None:
            return known  # a lead never changes a registered firm
    created = organizations.create_organization(
        session,
        engine,
        principal,
        OrganizationCreate.model_validate(
            {
                "kind": "company",
                "name": body.company_name,
                "ico": body.ico,
                "region": region,
                "contacts": [{"name": body.contact_name or VISITOR, "email": body.email}],
                "profiles": [{"needs": body.need, "public": False}],
            }
        ),
    )
    for profile in session.exec(select(Profile).where(Profile.organization_id == created.id)):
        profile.source = "widget"
        session.add(profile)
    firm = session.get(Organization, created.id)
    assert firm is not None
    return firm
