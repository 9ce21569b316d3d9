"""Run a match: build the query, rank, explain, and store the run as returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from matching.catalog import MatchQuery, Scored
from matching.explain import FacetSentences, best_evidence, explain
from matching.lexical import lexical_terms, surface_words
from matching.scoring import DEFAULT_MIN_SCORE
from matching.taxonomy import taxonomy
from matching.text import tokens
from schemas.fields import FieldList
from schemas.matches import MatchRequest, MatchResult, MatchRunRead, MatchRunSummary
from service import vector_store
from service.auth import access
from service.auth.principal import Principal
from service.engine import MatchEngine
from service.errors import Forbidden, NotFound, NotReady
from service.matches import repository
from service.models import Match, MatchRun, Organization
from service.webhooks import events

OTHER_KIND = {"company": "research", "research": "company"}


class _Source:
    """The asking side: its query, and its sentences for explanations (a stored
    profile's are read with the results' sentences)."""

    def __init__(
        self,
        query: MatchQuery,
        lexical_text: str,
        *,
        profile_id: int | None = None,
        needs: FacetSentences | None = None,
    ) -> None:
        self.query = query
        self.profile_id = profile_id
        self.needs = needs
        self.offers: FacetSentences | None = None
        self.words = surface_words(lexical_text)  # to show lexical terms as written


def _filters(body: MatchRequest, exclude: set[int], principal: Principal) -> dict[str, Any]:
    return {
        "private_access": access.private_access(principal),
        "limit": body.limit,
        "regions": None if body.regions is None else frozenset(body.regions),
        "countries": None if body.countries is None else frozenset(body.countries),
        "concepts_any": _field_concepts(body.fields),
        "exclude_organization_ids": frozenset(exclude),
        "min_score": _min_score(body),
    }


def _field_concepts(fields: list[str] | None) -> frozenset[str] | None:
    """Every taxonomy concept of the requested fields (None: no field filter)."""
    if fields is None:
        return None
    return frozenset().union(*(taxonomy().field_concepts(field) for field in fields))


def _min_score(body: MatchRequest) -> float:
    return DEFAULT_MIN_SCORE if body.min_score is None else body.min_score


def _profile_source(
    session: Session,
    engine: MatchEngine,
    body: MatchRequest,
    profile_id: int,
    principal: Principal,
) -> tuple[_Source, str, Organization]:
    found = repository.profile_with_organization(session, profile_id)
    if found is None or not access.can_read_profile(principal, *found):
        raise NotFound(f"profile {profile_id} does not exist")
    profile, organization = found
    if not access.full_view(principal, organization):
        raise Forbidden(
            "this key may run matches only for organisations of its regions or that it "
            "registered; send 'text' to search without a stored profile",
            errors=[{"pointer": "#/profile_id"}],
        )
    # an expired profile is not in the index, yet may still look for partners
    vectors = engine.profile_vectors(profile_id) or vector_store.stored_vectors(
        session, profile, engine.model_id
    )
    if not vectors:
        raise NotReady(f"profile {profile_id} is not indexed yet; try again shortly")
    target = body.target or OTHER_KIND[organization.kind]
    assert organization.id is not None
    # what the index derived from the profile (derived here for an expired one)
    entry = engine.entry(profile_id) or vector_store.entry_of(profile, organization)
    query = MatchQuery(
        target_kind=target,
        needs=vectors.get("needs"),
        offers=vectors.get("offers"),
        keywords=entry.keywords,
        terms=entry.terms,
        need_terms=tuple(lexical_terms(profile.needs)),
        offer_terms=entry.offer_terms,
        concepts=taxonomy().concepts_in(profile.needs or profile.offers),
        region=organization.region,
        country=organization.country,
        **_filters(body, {*body.exclude_organization_ids, organization.id}, principal),
    )
    return (
        _Source(query, profile.needs or profile.offers, profile_id=profile_id),
        target,
        organization,
    )


def _text_source(
    engine: MatchEngine, body: MatchRequest, text: str, principal: Principal
) -> tuple[_Source, str]:
    [embedding] = engine.embed([text])
    target = body.target or "research"
    query = MatchQuery(
        target_kind=target,
        needs=embedding.vector,
        terms=frozenset(tokens(text)),
        need_terms=tuple(lexical_terms(text)),
        concepts=taxonomy().concepts_in(text),
        **_filters(body, set(body.exclude_organization_ids), principal),
    )
    sentences = FacetSentences(embedding.sentences, embedding.sentence_vectors)
    return _Source(query, text, needs=sentences), target


def _results(
    session: Session, source: _Source, scored: list[Scored]
) -> tuple[list[dict[str, Any]], frozenset[int]]:
    """The results as stored and returned, and the keys that registered their
    organisations (what is shown of those comes from the index entries: an
    organisation's change re-indexes its profiles, and a match catches up first)."""
    ids = [item.entry.profile_id for item in scored]
    if source.profile_id is None:
        stored = vector_store.sentences_of(session, ids, "offers")
    else:  # the source's sentences with the results' (its needs meet their offers …)
        stored = vector_store.sentences_of(session, [*ids, source.profile_id], "offers", "needs")
        source.needs = stored["needs"].get(source.profile_id)
        source.offers = stored["offers"].get(source.profile_id)
    target_offers, target_needs = stored["offers"], stored.get("needs", {})
    results = []
    for rank, item in enumerate(scored, start=1):
        entry = item.entry
        pid = entry.profile_id
        explanation = explain(
            forward=best_evidence(source.needs, target_offers.get(pid)),
            reciprocal=best_evidence(target_needs.get(pid), source.offers),
            domain=(
                best_evidence(source.offers, target_offers.get(pid))
                if item.components.domain is not None
                else None
            ),
            shared=list(item.shared_keywords),
            shared_terms=[source.words.get(term, term) for term in item.shared_terms],
            shared_concepts=[c.as_dict() for c in taxonomy().describe(item.shared_concepts)],
            same_region=item.components.proximity == 1.0,
            same_country=item.components.proximity == 0.5,
            target_name=entry.organization_name,
        )
        results.append(
            {
                "rank": rank,
                "profile_id": pid,
                "organization": {
                    "id": entry.organization_id,
                    "name": entry.organization_name,
                    "kind": entry.kind,
                    "region": entry.region,
                    "country": entry.country,
                },
                "score": round(item.score, 4),
                "components": item.components.as_dict(),
                "explanation": explanation,
            }
        )
    owners = frozenset(
        item.entry.created_by_key_id for item in scored if item.entry.created_by_key_id is not None
    )
    return results, owners


@dataclass(frozen=True)
class FoundMatches:
    """Ranked, explained results of a match request, not yet stored."""

    target: str
    source_organization: Organization | None
    results: list[dict[str, Any]]
    index_version: int
    result_owner_key_ids: frozenset[int]  # keys that registered the results' organisations


def find_matches(
    session: Session, engine: MatchEngine, principal: Principal, body: MatchRequest
) -> FoundMatches:
    """Retrieve, re-score and explain partners for a profile or a text (what
    :func:`run_match` then stores). Private profiles the caller may not see are never
    returned."""
    if not engine.ready:
        raise NotReady("the index is still loading; try again shortly")
    if principal.role == "widget" and body.profile_id is not None:
        raise Forbidden(
            "a widget key searches by 'text' only", errors=[{"pointer": "#/profile_id"}]
        )
    # Private profiles the caller may not see are filtered by the index, and profiles
    # past their validity are not in it.
    engine.catch_up(session)
    source_organization: Organization | None = None
    if body.profile_id is not None:
        source, target, source_organization = _profile_source(
            session, engine, body, body.profile_id, principal
        )
    else:
        assert body.text is not None
        source, target = _text_source(engine, body, body.text, principal)
    scored, index_version = engine.match(source.query)
    results, owners = _results(session, source, scored)
    return FoundMatches(target, source_organization, results, index_version, owners)


def run_match(
    session: Session, engine: MatchEngine, principal: Principal, body: MatchRequest
) -> MatchRunRead:
    """Rank partners for a profile or a text, store the run, return it."""
    found = find_matches(session, engine, principal, body)
    source_organization, results = found.source_organization, found.results
    run = MatchRun(
        profile_id=body.profile_id,
        query_text=body.text,
        target=found.target,
        limit=body.limit,
        regions=body.regions,
        countries=body.countries,
        fields=body.fields,
        exclude_organization_ids=body.exclude_organization_ids,
        min_score=_min_score(body),
        model_id=engine.model_id,
        index_version=found.index_version,
        source_organization_id=None if source_organization is None else source_organization.id,
        source_region=None if source_organization is None else source_organization.region,
        created_by_key_id=principal.key_id,
    )
    session.add(run)
    session.flush()
    assert run.id is not None
    session.add_all([Match(run_id=run.id, **result) for result in results])
    _announce(session, run, source_organization, results, found.result_owner_key_ids)
    session.flush()
    return _read(run, results)


def _announce(
    session: Session,
    run: MatchRun,
    source: Organization | None,
    results: list[dict[str, Any]],
    result_owners: frozenset[int],
) -> None:
    """``match.created`` for the partners who registered the source or a result (ids and
    scores only: the texts and explanations stay here)."""
    assert run.id is not None
    owners = set(result_owners)
    if source is not None and source.created_by_key_id is not None:
        owners.add(source.created_by_key_id)
    payload = {
        "run_id": run.id,
        "profile_id": run.profile_id,
        "created_at": run.created_at.isoformat(),
        "results": [
            {
                "rank": result["rank"],
                "profile_id": result["profile_id"],
                "organization_id": result["organization"]["id"],
                "score": result["score"],
            }
            for result in results
        ],
    }
    events.emit(session, "match.created", "match_run", run.id, payload, owners)


def _read(run: MatchRun, results: list[dict[str, Any]]) -> MatchRunRead:
    assert run.id is not None
    return MatchRunRead(
        run_id=run.id,
        created_at=run.created_at,
        profile_id=run.profile_id,
        text=run.query_text,
        target=run.target,  # type: ignore[arg-type]
        limit=run.limit,
        regions=run.regions,
        countries=run.countries,
        fields=run.fields,
        exclude_organization_ids=run.exclude_organization_ids,
        min_score=run.min_score,
        model_id=run.model_id,
        index_version=run.index_version,
        results=[MatchResult.model_validate(result) for result in results],
        note=None
        if results
        else f"No partner scored at least {run.min_score:g}: the index holds no organisation "
        "that matches well enough. Broaden the filters or describe the need differently.",
    )


def list_fields() -> FieldList:
    """The taxonomy's fields, in its order."""
    return FieldList.model_validate(
        {"fields": [field.as_dict() for field in taxonomy().fields.values()]}
    )


def read_run(session: Session, principal: Principal, run_id: int) -> MatchRunRead:
    """A stored run with its results exactly as returned (404 for runs the caller may
    not read)."""
    found = repository.get_run(session, run_id)
    if found is None or not access.can_read_run(session, principal, found[0]):
        raise NotFound(f"match run {run_id} does not exist")
    run, matches = found
    return _read(
        run,
        [
            match.model_dump(
                include={"rank", "profile_id", "organization", "score", "components", "explanation"}
            )
            for match in matches
        ],
    )


def list_runs(
    session: Session, principal: Principal, *, profile_id: int | None, before_id: int, limit: int
) -> tuple[list[MatchRunSummary], int | None]:
    """Runs this caller may read, newest first, and the id the next page continues before."""
    rows = repository.list_runs(
        session,
        profile_id=profile_id,
        before_id=before_id,
        limit=limit + 1,
        visible=None if principal.is_admin else access.visible_runs(principal),
    )
    page, more = rows[:limit], len(rows) > limit
    items = [
        MatchRunSummary(
            run_id=run.id or 0,
            created_at=run.created_at,
            profile_id=run.profile_id,
            text=run.query_text,
            target=run.target,  # type: ignore[arg-type]
            model_id=run.model_id,
            result_count=count,
        )
        for run, count in page
    ]
    return items, (page[-1][0].id if more else None)
