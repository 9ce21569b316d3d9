"""The searchable set of profiles: facet indexes plus what filters and scoring need.

One :class:`VectorIndex` per (kind, facet) — ``company:offers``,
``research:needs`` … — so that a search for research partners only ever scans
research offers. :meth:`Catalog.match` retrieves candidates by both directions
(source needs → target offers, source offers → target needs), re-scores each
exactly and ranks deterministically (score, then profile id).
"""

from __future__ import annotations

import heapq
import pickle
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from matching.columns import Columns
from matching.index import VectorIndex
from matching.keyword_columns import KeywordColumns
from matching.lexical import LexicalIndex
from matching.scoring import (
    BONUSES,
    EMPTY_KEYWORDS,
    RELEVANCE_WEIGHTS,
    Components,
    KeywordMatcher,
    KeywordSet,
    combine_many,
    shared_concepts,
)

__all__ = ["FACETS", "KINDS", "Catalog", "Entry", "MatchQuery", "PrivateAccess", "Scored"]

Vector = npt.NDArray[np.float32]
KINDS = ("company", "research")
FACETS = ("offers", "needs")
_MIN_CANDIDATES = 200
_CANDIDATES_PER_RESULT = 20
# What state_bytes keeps: the entries and everything derived from them.
_STATE = (
    "entries",
    "lexical",
    "_by_region",
    "_by_country",
    "_by_concept",
    "_by_organization",
    "_by_kind",
    "_private",
    "_expiry",
    "columns",
    "keyword_columns",
)
# Up to this many excluded ids widen the candidate searches; more become a filter.
_EXCLUDED_BY_DEPTH = 1_000
# Above the rounding of rank keys (six decimals): a candidate that could tie the
# list's last item is never dropped.
_TIE_MARGIN = 1e-6


@dataclass(frozen=True)
class Entry:
    """What the catalog keeps of one profile besides its vectors."""

    profile_id: int
    organization_id: int
    kind: str
    country: str
    region: str | None
    keywords: KeywordSet = EMPTY_KEYWORDS
    terms: frozenset[str] = frozenset()
    offer_terms: tuple[str, ...] = ()
    concepts: frozenset[str] = frozenset()  # taxonomy concepts of its offers
    public: bool = True
    created_by_key_id: int | None = None  # the API key that registered its organisation
    valid_until: float | None = None  # POSIX seconds; from then on it is never matched
    organization_name: str = ""  # shown with a result without reading the database


@dataclass(frozen=True)
class PrivateAccess:
    """Which private (non-public) profiles a caller may see: every one, those of
    some regions, or those its key registered. The default sees none."""

    everything: bool = False
    regions: frozenset[str] = frozenset()
    key_id: int | None = None

    def sees(self, entry: Entry) -> bool:
        """True when ``entry`` is public or this access covers it."""
        return (
            entry.public
            or self.everything
            or entry.region in self.regions
            or (self.key_id is not None and entry.created_by_key_id == self.key_id)
        )


@dataclass(frozen=True)
class MatchQuery:
    """A source (stored profile or free text) and what to look for."""

    target_kind: str
    needs: Vector | None = None
    offers: Vector | None = None
    keywords: KeywordSet = EMPTY_KEYWORDS
    terms: frozenset[str] = frozenset()
    need_terms: tuple[str, ...] = ()
    offer_terms: tuple[str, ...] = ()
    concepts: frozenset[str] = frozenset()  # of its needs, or offers without needs
    region: str | None = None
    country: str | None = None
    limit: int = 10
    regions: frozenset[str] | None = None
    countries: frozenset[str] | None = None
    # only targets whose offers mention one of these taxonomy concepts (a field filter)
    concepts_any: frozenset[str] | None = None
    exclude_organization_ids: frozenset[int] = field(default_factory=frozenset)
    exclude_profile_ids: frozenset[int] = field(default_factory=frozenset)
    private_access: PrivateAccess = PrivateAccess()  # private profiles it may return
    # Show an organisation once, by its best profile: a university with a profile per
    # department must not fill the list with weak matches and crowd out a specialist.
    one_per_organization: bool = True
    min_score: float = 0.0  # results scoring below are not returned


@dataclass(frozen=True)
class Scored:
    """One ranked result before explanation."""

    entry: Entry
    score: float
    components: Components
    shared_keywords: tuple[str, ...]
    shared_terms: tuple[str, ...] = ()
    shared_concepts: frozenset[str] = frozenset()


class Catalog:
    """Profiles searchable by facet, with metadata for filtering and scoring."""

    def __init__(self, dimension: int, indexes: Mapping[str, VectorIndex] | None = None) -> None:
        self.dimension = dimension
        self.indexes: dict[str, VectorIndex] = {
            f"{kind}:{facet}": VectorIndex(dimension) for kind in KINDS for facet in FACETS
        }
        if indexes:
            self.indexes.update(indexes)
        self.lexical = {kind: LexicalIndex() for kind in KINDS}  # over offers texts
        self.relevance_weights = dict(RELEVANCE_WEIGHTS)
        self.bonuses = dict(BONUSES)
        self.entries: dict[int, Entry] = {}
        self._by_region: dict[str, set[int]] = defaultdict(set)
        self._by_country: dict[str, set[int]] = defaultdict(set)
        self._by_concept: dict[str, set[int]] = defaultdict(set)
        self._by_organization: dict[int, set[int]] = defaultdict(set)
        self._by_kind: dict[str, set[int]] = {kind: set() for kind in KINDS}
        self._private: set[int] = set()
        self._expiry: list[tuple[float, int]] = []  # heap of (valid_until, profile id)
        self.columns = Columns()
        self.keyword_columns = KeywordColumns()

    def __len__(self) -> int:
        return len(self.entries)

    def state_bytes(self) -> bytes:
        """Everything but the vector indexes and weights, serialised for a snapshot.

        Pickle: a snapshot is the service's own file in its data folder, as
        trusted as its code."""
        return pickle.dumps(
            {name: getattr(self, name) for name in _STATE}, protocol=pickle.HIGHEST_PROTOCOL
        )

    @classmethod
    def restore(cls, dimension: int, indexes: Mapping[str, VectorIndex], state: bytes) -> Catalog:
        """A catalog from its vector indexes and :meth:`state_bytes`."""
        catalog = cls(dimension, indexes)
        catalog.__dict__.update(pickle.loads(state))  # our own file
        return catalog

    def upsert(self, entry: Entry, vectors: Mapping[str, Vector]) -> None:
        """Store or replace a profile with its facet vectors (``offers``/``needs``)."""
        self.upsert_many([(entry, vectors)])

    def upsert_many(self, profiles: Iterable[tuple[Entry, Mapping[str, Vector]]]) -> None:
        """:meth:`upsert` of many profiles, with one bulk upsert per vector index: an
        index that becomes approximate is trained once, on all its vectors (grown one
        vector at a time, it would keep the lists and ``nprobe`` of its first 20,000)."""
        keys: dict[str, list[int]] = defaultdict(list)
        rows: dict[str, list[Vector]] = defaultdict(list)
        latest = {entry.profile_id: (entry, vectors) for entry, vectors in profiles}
        for entry, vectors in latest.values():  # a profile given twice: its last state
            self.remove(entry.profile_id)
            self.register(entry)
            for facet, vector in vectors.items():
                keys[f"{entry.kind}:{facet}"].append(entry.profile_id)
                rows[f"{entry.kind}:{facet}"].append(vector.reshape(1, -1))
        for name in list(keys):  # one index at a time, its rows freed once added
            self.indexes[name].upsert(keys.pop(name), np.concatenate(rows.pop(name)))

    def register(self, entry: Entry) -> None:
        """Record an entry whose vectors are already in the indexes (snapshot load)."""
        self.entries[entry.profile_id] = entry
        if entry.offer_terms:
            self.lexical[entry.kind].upsert(entry.profile_id, entry.offer_terms)
        if entry.region:
            self._by_region[entry.region].add(entry.profile_id)
        self._by_country[entry.country].add(entry.profile_id)
        for concept in entry.concepts:
            self._by_concept[concept].add(entry.profile_id)
        self._by_organization[entry.organization_id].add(entry.profile_id)
        self._by_kind[entry.kind].add(entry.profile_id)
        if not entry.public:
            self._private.add(entry.profile_id)
        if entry.valid_until is not None:
            heapq.heappush(self._expiry, (entry.valid_until, entry.profile_id))
        self.columns.set(
            entry.profile_id,
            organization_id=entry.organization_id,
            region=entry.region,
            country=entry.country,
            concepts=entry.concepts,
        )
        self.keyword_columns.set(entry.profile_id, entry.keywords, entry.terms)

    def expire(self, now: float) -> list[int]:
        """Forget profiles whose ``valid_until`` has come by ``now`` (POSIX seconds);
        returns their ids. Costs O(log n) per profile that expires, nothing otherwise."""
        expired = []
        while self._expiry and self._expiry[0][0] <= now:
            valid_until, profile_id = heapq.heappop(self._expiry)
            entry = self.entries.get(profile_id)
            if entry is not None and entry.valid_until == valid_until:  # else replaced since
                self.remove(profile_id)
                expired.append(profile_id)
        return expired

    def drop_unregistered(self) -> None:
        """Remove vectors of ids that have no entry."""
        for index in self.indexes.values():
            index.remove(index.ids() - self.entries.keys())

    def vectors_of(self, profile_id: int) -> dict[str, Vector]:
        """The facet vectors held for one profile."""
        entry = self.entries.get(profile_id)
        if entry is None:
            return {}
        found: dict[str, Vector] = {}
        for facet in FACETS:
            found.update(
                (facet, vector)
                for vector in self.indexes[f"{entry.kind}:{facet}"].vectors([profile_id]).values()
            )
        return found

    def profiles_of_kind(
        self, kind: str, regions: frozenset[str] | None = None
    ) -> list[tuple[Entry, Vector, Vector | None]]:
        """(entry, offers vector, needs vector or None) of every profile of ``kind`` with
        offers, in profile id order, only in ``regions`` when given."""
        ids = sorted(
            profile_id
            for profile_id, entry in self.entries.items()
            if entry.kind == kind and (regions is None or entry.region in regions)
        )
        offers = self.indexes[f"{kind}:offers"].vectors(ids)
        needs = self.indexes[f"{kind}:needs"].vectors(ids)
        return [(self.entries[i], offers[i], needs.get(i)) for i in ids if i in offers]

    def remove(self, profile_id: int) -> None:
        """Forget a profile; unknown ids are ignored."""
        entry = self.entries.pop(profile_id, None)
        if entry is None:
            for index in self.indexes.values():
                index.remove([profile_id])
            return
        self._by_region[entry.region or ""].discard(profile_id)
        self._by_country[entry.country].discard(profile_id)
        for concept in entry.concepts:
            self._by_concept[concept].discard(profile_id)
        self._by_organization[entry.organization_id].discard(profile_id)
        self._by_kind[entry.kind].discard(profile_id)
        self._private.discard(profile_id)
        self.columns.clear(profile_id)
        self.keyword_columns.clear(profile_id)
        self.lexical[entry.kind].remove(profile_id)
        for facet in FACETS:
            self.indexes[f"{entry.kind}:{facet}"].remove([profile_id])

    def _allowed(self, query: MatchQuery) -> set[int] | None:
        """Ids passing every filter of the query (None: no filter)."""
        allowed: set[int] | None = None
        for values, by in (
            (query.regions, self._by_region),
            (query.countries, self._by_country),
            (query.concepts_any, self._by_concept),
        ):
            if values is None:
                continue
            passing = set().union(*(by.get(value, set()) for value in values))
            allowed = passing if allowed is None else allowed & passing
        return allowed

    def _excluded(self, query: MatchQuery) -> set[int]:
        """Ids never returned: those asked to exclude, and private ones the caller may
        not see."""
        excluded: set[int] = set(query.exclude_profile_ids)
        for organization_id in query.exclude_organization_ids:
            excluded |= self._by_organization.get(organization_id, set())
        if not query.private_access.everything:
            excluded.update(
                profile_id
                for profile_id in self._private
                if not query.private_access.sees(self.entries[profile_id])
            )
        return excluded

    def _retrieve(
        self,
        query: MatchQuery,
        allowed: set[int] | None,
        excluded: set[int],
        lexical: npt.NDArray[np.float64],
    ) -> set[int]:
        """Candidates: the nearest in each direction the query can be compared in,
        and the best lexical matches."""
        k = max(_MIN_CANDIDATES, query.limit * _CANDIDATES_PER_RESULT) + len(excluded)
        candidates: set[int] = set()
        for _, vector, facet in self._directions(query):
            index = self.indexes[f"{query.target_kind}:{facet}"]
            hits = index.search(vector, k, allowed, exact_order=False)  # re-scored below
            candidates.update(key for key, _ in hits)
        candidates.update(key for key, _ in LexicalIndex.top(lexical, k, allowed))
        return candidates - excluded

    @staticmethod
    def _lexical_query(query: MatchQuery) -> tuple[str, ...]:
        """The source's needs terms, or its offers terms when it states no needs."""
        return query.need_terms if query.needs is not None else query.offer_terms

    def shared_terms(self, query: MatchQuery, profile_id: int, count: int = 5) -> list[str]:
        """The query's lexical terms that weigh most in a target's offers (stems)."""
        parts = self.lexical[query.target_kind].contributions(
            self._lexical_query(query), profile_id
        )
        return [term for term, _ in parts[:count]]

    def _lexical_shares(self, query: MatchQuery) -> npt.NDArray[np.float64]:
        """BM25 of the source's needs (or offers) on every target offers text, as a share
        of the highest score the query could reach, indexed by profile id."""
        terms = self._lexical_query(query)
        index = self.lexical[query.target_kind]
        ceiling = index.ceiling(terms)
        if not terms or ceiling == 0:
            return np.zeros(0)
        shares = index.score_all(terms)  # a new array: divided in place, no second copy
        shares /= ceiling
        return shares

    @staticmethod
    def _directions(query: MatchQuery) -> list[tuple[str, Vector, str]]:
        """(component, query vector, target facet) for each comparison that applies."""
        directions = []
        if query.needs is not None:
            directions.append(("need_offer", query.needs, "offers"))
        if query.offers is not None:
            directions.append(("offer_need", query.offers, "needs"))
            if query.needs is None:
                directions.append(("domain", query.offers, "offers"))
        return directions

    def _similarities(
        self, facet_key: str, query_vector: Vector, ids: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.float64]:
        """Exact cosine of the query vector and each candidate's facet (ids sorted; NaN
        where a candidate has no such facet)."""
        keys, rows = self.indexes[facet_key].rows(ids)
        found = np.full(len(ids), np.nan)
        found[np.searchsorted(ids, keys)] = rows @ query_vector
        return found

    def match(self, query: MatchQuery) -> list[Scored]:
        """Ranked complementary partners for ``query`` (at most ``query.limit``): the
        candidates scored in columns and ranked by score (rounded to six decimals), ties
        by profile id; the same list as scoring every candidate in full."""
        allowed = self._allowed(query)
        excluded = self._excluded(query) & self._by_kind[query.target_kind]
        if len(excluded) > _EXCLUDED_BY_DEPTH:  # searching deeper would cost more
            allowed = (self._by_kind[query.target_kind] if allowed is None else allowed) - excluded
            excluded = set()
        lexical = self._lexical_shares(query)
        candidates = sorted(self._retrieve(query, allowed, excluded, lexical))
        # vectors without an entry are never returned (defensive)
        ids = self.columns.known(np.array(candidates, dtype=np.int64))
        columns = self._candidate_columns(query, ids, lexical)
        organizations = self.columns.organization[ids]
        # A keyword share adds at most the keyword bonus: a candidate behind the
        # list's entry bar even with it cannot enter, and its keywords are not compared.
        base = combine_many(columns, len(ids), self.relevance_weights, self.bonuses)
        bar = _entry_bar(base, organizations, query.limit, query.one_per_organization)
        contenders = base + self.bonuses["keywords"] >= bar - _TIE_MARGIN
        shares = np.full(len(ids), np.nan)
        shares[contenders] = self.keyword_columns.shares(
            ids[contenders], query.keywords, query.terms
        )
        columns["keywords"] = shares
        scores = combine_many(columns, len(ids), self.relevance_weights, self.bonuses)
        rank_keys = np.round(scores, 6)  # scores equal to six decimals tie
        order = np.lexsort((ids, -rank_keys))
        if query.one_per_organization:
            order = order[_firsts(organizations[order])]
        top = order[: query.limit]
        top = top[rank_keys[top] >= query.min_score]
        keywords = KeywordMatcher(query.keywords, query.terms)
        return [
            self._scored(query, self.entries[int(ids[p])], p, float(scores[p]), columns, keywords)
            for p in top.tolist()
        ]

    def _candidate_columns(
        self, query: MatchQuery, ids: npt.NDArray[np.int64], lexical: npt.NDArray[np.float64]
    ) -> dict[str, npt.NDArray[np.float64]]:
        """Every score component but keywords, one column per component (NaN: None)."""
        size = len(ids)
        # needs against offers, or (a source without needs) offers against offers
        prefix = "" if query.needs is not None else "domain_"
        if not self._lexical_query(query):
            lexical_column = np.full(size, np.nan)
        else:
            lexical_column = np.zeros(size)
            inside = ids < len(lexical)
            lexical_column[inside] = lexical[ids[inside]]
        columns = {
            f"{prefix}lexical": lexical_column,
            f"{prefix}concepts": self.columns.concept_share(ids, query.concepts),
            "proximity": self.columns.proximity(ids, query.region, query.country),
        }
        for component, vector, facet in self._directions(query):
            columns[component] = self._similarities(f"{query.target_kind}:{facet}", vector, ids)
        return columns

    def _scored(
        self,
        query: MatchQuery,
        entry: Entry,
        position: int,
        score: float,
        columns: Mapping[str, npt.NDArray[np.float64]],
        keywords: KeywordMatcher,
    ) -> Scored:
        values = {name: float(column[position]) for name, column in columns.items()}
        components = Components(
            **{name: None if np.isnan(value) else value for name, value in values.items()}
        )
        return Scored(
            entry,
            score,
            components,
            tuple(keywords.shared(entry.keywords, entry.terms)[0]),
            shared_terms=tuple(self.shared_terms(query, entry.profile_id)),
            shared_concepts=shared_concepts(query.concepts, entry.concepts)[0],
        )


def _entry_bar(
    scores: npt.NDArray[np.float64],
    organizations: npt.NDArray[np.int64],
    limit: int,
    one_per_organization: bool,
) -> float:
    """The ``limit``-th best of ``scores`` (of organisations' best ones when an
    organisation is listed once), or -inf when there are not that many: a list of
    ``limit`` ranked by scores at least as high has no item below it."""
    if one_per_organization:
        order = np.argsort(-scores, kind="stable")
        scores = scores[order[_firsts(organizations[order])]]
    if limit <= 0 or len(scores) < limit:
        return -np.inf
    return float(np.partition(scores, len(scores) - limit)[len(scores) - limit])


def _firsts(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Positions of the first occurrence of each value, in order: the best profile of
    each organisation, when ``values`` are organisations in rank order."""
    _, firsts = np.unique(values, return_index=True)
    firsts.sort()
    return firsts
