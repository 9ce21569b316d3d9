"""Alliance runs: the pool from the index, the search, the rationale, the stored run."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from matching.alliances import AllianceQuery, Candidate, Firm, find_alliances
from matching.catalog import MatchQuery, Vector
from matching.embedder import mean_direction
from matching.explain import FacetSentences
from schemas.alliances import AllianceRequest, AllianceRunRead
from service import vector_store
from service.auth import access
from service.auth.principal import Principal
from service.engine import MatchEngine
from service.errors import InvalidInput, NotFound, NotReady
from service.matches import repository as matches
from service.models import AllianceRun, Organization, Profile


def _pool(
    session: Session, engine: MatchEngine, body: AllianceRequest, hidden: frozenset[int]
) -> list[Firm]:
    regions = None if body.regions is None else frozenset(body.regions)
    profiles = [
        item
        for item in engine.profiles_of_kind("company", regions)
        if item[0].profile_id not in hidden
    ]
    if body.seed_profile_id is not None and all(
        entry.profile_id != body.seed_profile_id for entry, _, _ in profiles
    ):
        profiles += [
            item
            for item in engine.profiles_of_kind("company")
            if item[0].profile_id == body.seed_profile_id
        ]
    markets = dict(
        session.exec(
            select(Profile.id, Profile.markets).where(
                col(Profile.id).in_([entry.profile_id for entry, _, _ in profiles])
            )
        ).all()
    )
    # an organisation's first CZ-NACE code is its main activity
    activities = {
        organization_id: frozenset(nace[:1])
        for organization_id, nace in session.exec(
            select(Organization.id, Organization.nace).where(
                col(Organization.id).in_({entry.organization_id for entry, _, _ in profiles})
            )
        )
    }
    return [
        Firm(
            key=entry.profile_id,
            organization_id=entry.organization_id,
            offers=offers,
            needs=needs,
            markets=frozenset(markets.get(entry.profile_id) or ()),
            region=entry.region,
            activities=activities.get(entry.organization_id, frozenset()),
        )
        for entry, offers, needs in profiles
    ]


def _brings(offers: FacetSentences | None, need: Vector | None) -> str:
    """The sentence of a member's offers that best meets a need (its first without one)."""
    if offers is None or not offers.sentences:
        return ""
    if need is None:
        return offers.sentences[0]
    return offers.sentences[int(np.argmax(offers.vectors @ need))]


def _member(organization: Organization, profile_id: int, brings: str) -> dict[str, Any]:
    return {
        "organization": {
            "id": organization.id,
            "name": organization.name,
            "region": organization.region,
        },
        "profile_id": profile_id,
        "brings": brings,
    }


def _research_partner(
    session: Session,
    engine: MatchEngine,
    firms: list[Firm],
    exclude: frozenset[int],
    hidden: frozenset[int],
) -> dict[str, Any] | None:
    """The research organisation whose offers best meet the group's joint needs."""
    needs = [firm.needs for firm in firms if firm.needs is not None]
    if not needs:
        return None
    joint = mean_direction(np.vstack(needs))
    scored, _ = engine.match(
        MatchQuery(
            target_kind="research",
            needs=joint,
            limit=1,
            exclude_organization_ids=exclude,
            exclude_profile_ids=hidden,
        )
    )
    if not scored:
        return None
    best = scored[0].entry
    organization = session.get(Organization, best.organization_id)
    if organization is None:
        return None
    offers = vector_store.sentences_of(session, [best.profile_id], "offers")["offers"].get(
        best.profile_id
    )
    return _member(organization, best.profile_id, _brings(offers, joint))


def _shape(
    session: Session,
    engine: MatchEngine,
    candidate: Candidate,
    firms: dict[int, Firm],
    include_research: bool,
    hidden: frozenset[int],
) -> dict[str, Any]:
    offers = vector_store.sentences_of(session, list(candidate.members), "offers")["offers"]
    organizations = matches.organizations_of_profiles(session, list(candidate.members))
    members = []
    for key in candidate.members:
        met = candidate.meets.get(key)
        need = None if met is None else firms[met].needs
        members.append(_member(organizations[key], key, _brings(offers.get(key), need)))
    group = [firms[key] for key in candidate.members]
    research = (
        _research_partner(
            session, engine, group, frozenset(firm.organization_id for firm in group), hidden
        )
        if include_research
        else None
    )
    return {
        "members": members,
        "market": candidate.market,
        "score": candidate.score,
        "components": candidate.components,
        "research": research,
    }


def run_alliances(
    session: Session, engine: MatchEngine, principal: Principal, body: AllianceRequest
) -> AllianceRunRead:
    """Search candidate groups, store the run, return it; an advisor searches its regions."""
    if not engine.ready:
        raise NotReady("the index is still loading; try again shortly")
    body = body.model_copy(update={"regions": access.advisor_regions(principal, body.regions)})
    engine.catch_up(session)
    hidden = access.hidden_profile_ids(session, principal) | matches.expired_profile_ids(session)
    if body.seed_profile_id is not None:
        organization = matches.organizations_of_profiles(session, [body.seed_profile_id]).get(
            body.seed_profile_id
        )
        if organization is None or body.seed_profile_id in hidden:
            raise InvalidInput.at(
                "#/seed_profile_id", f"profile {body.seed_profile_id} does not exist"
            )
        if organization.kind != "company":
            raise InvalidInput.at(
                "#/seed_profile_id", "the seed must be a company's profile (alliances are of firms)"
            )
    firms = _pool(session, engine, body, hidden)
    query = AllianceQuery(
        market=body.market,
        seed=body.seed_profile_id,
        size_min=body.size_min,
        size_max=body.size_max,
        limit=body.limit,
        max_shared=body.max_shared,
    )
    by_key = {firm.key: firm for firm in firms}
    candidates = [
        _shape(session, engine, candidate, by_key, body.include_research, hidden)
        for candidate in (find_alliances(firms, query) if len(firms) >= body.size_min else [])
    ]
    run = AllianceRun(
        request=body.model_dump(mode="json"),
        model_id=engine.model_id,
        candidates=candidates,
        created_by_key_id=principal.key_id,
    )
    session.add(run)
    session.flush()
    return _read(run)


def _read(run: AllianceRun) -> AllianceRunRead:
    assert run.id is not None
    return AllianceRunRead(
        run_id=run.id,
        created_at=run.created_at,
        request=run.request,
        model_id=run.model_id,
        candidates=run.candidates,  # type: ignore[arg-type]
    )


def read_run(session: Session, principal: Principal, run_id: int) -> AllianceRunRead:
    """A stored run exactly as returned (404 for runs the caller may not read)."""
    run = session.get(AllianceRun, run_id)
    if run is None or not access.can_read_alliance_run(principal, run):
        raise NotFound(f"alliance run {run_id} does not exist")
    return _read(run)
