"""Export alliance candidates: groups of firms that together serve a market.

A good group is made of firms that *complete* each other — one's needs are
met by another's offers — in one broad field, that do not compete (two firms
whose offers are the same thing are never partners in a group), and that
target the same foreign market. Nothing here knows HTTP or SQL: firms come in
as vectors and metadata, candidate groups go out with their score components.

Search: for each seed firm (the one asked for, or the most complementary
firms of the pool), a neighbourhood of the firms closest to it by
complementarity and field; then a beam search grows groups inside it, one
member at a time, keeping the best partial groups; finally the best groups are
picked so that two of them share at most ``max_shared`` of their members.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import numpy.typing as npt

__all__ = [
    "COMPETITION_ONSET",
    "COMPETITION_SIMILARITY",
    "WEIGHTS",
    "AllianceQuery",
    "Candidate",
    "Firm",
    "find_alliances",
]

Vector = npt.NDArray[np.float32]

# Offers this close are the same thing: the two firms compete and are never in
# one group, nor are two firms whose main activity is the same CZ-NACE class.
# Between COMPETITION_ONSET and it, the no_competition component falls from 1
# to 0 (firms of one field resemble each other without competing).
COMPETITION_SIMILARITY = 0.8
COMPETITION_ONSET = 0.5
# Weights measured on bench/data/alliances (docs/benchmarks.md).
WEIGHTS: Mapping[str, float] = {
    "complementarity": 0.5,
    "cohesion": 0.1,
    "no_competition": 0.2,
    "market": 0.1,
    "proximity": 0.1,
}
_NEIGHBOURHOOD = 40
_BEAM = 12
_AUTO_SEEDS = 24


@dataclass(frozen=True)
class Firm:
    """A firm of the pool: its profile, offers and needs vectors, markets and region."""

    key: int
    organization_id: int
    offers: Vector
    needs: Vector | None = None
    markets: frozenset[str] = frozenset()
    region: str | None = None
    activities: frozenset[str] = frozenset()  # its main CZ-NACE class, if known


@dataclass(frozen=True)
class AllianceQuery:
    """What to look for."""

    market: str | None = None  # only firms targeting it, and it is the joint market
    seed: int | None = None  # build around this firm (its key)
    size_min: int = 3
    size_max: int = 5
    limit: int = 5
    max_shared: float = 0.5  # two candidates share at most this share of members
    weights: Mapping[str, float] = field(default_factory=lambda: dict(WEIGHTS))
    competition_similarity: float = COMPETITION_SIMILARITY
    competition_onset: float = COMPETITION_ONSET


@dataclass(frozen=True)
class Candidate:
    """A candidate group, its joint market, score and components.

    ``meets[key]`` is the member whose needs that member's offers meet best
    (what it brings to the group), or None when it meets no one's needs.
    """

    members: tuple[int, ...]
    market: str | None
    score: float
    components: dict[str, float]
    meets: dict[int, int | None]


class _Pool:
    """The firms eligible for a query, as matrices."""

    def __init__(self, firms: Sequence[Firm]) -> None:
        self.firms = list(firms)
        dimension = len(firms[0].offers)
        self.offers = np.vstack([firm.offers for firm in firms]).astype(np.float32)
        self.needs = np.vstack(
            [
                firm.needs if firm.needs is not None else np.zeros(dimension, np.float32)
                for firm in firms
            ]
        ).astype(np.float32)
        self.has_needs = np.array([firm.needs is not None for firm in firms])

    def relations(self, rows: Sequence[int], columns: Sequence[int]) -> tuple[Vector, Vector]:
        """(meets, same_field): ``meets[a, b]`` how well row a's offers meet column b's
        needs; ``same_field[a, b]`` the similarity of their offers."""
        offers_rows = self.offers[list(rows)]
        meets = offers_rows @ self.needs[list(columns)].T
        meets[:, ~self.has_needs[list(columns)]] = 0.0
        return meets, offers_rows @ self.offers[list(columns)].T


def _joint_market(firms: Sequence[Firm], wanted: str | None) -> tuple[str | None, float]:
    """The market most members target (the wanted one when given), and their share."""
    if wanted is not None:
        return wanted, sum(wanted in firm.markets for firm in firms) / len(firms)
    counts: dict[str, int] = {}
    for firm in firms:
        for market in firm.markets:
            counts[market] = counts.get(market, 0) + 1
    if not counts:
        return None, 0.0
    market = min(counts, key=lambda code: (-counts[code], code))
    return market, counts[market] / len(firms)


@dataclass(frozen=True)
class _Local:
    """A neighbourhood as plain lists: scoring thousands of small groups is faster on
    Python floats than on numpy scalars."""

    meets: list[list[float]]
    same_field: list[list[float]]
    has_needs: list[bool]
    regions: list[str | None]
    firms: list[Firm]


def _score(
    group: Sequence[int], local: _Local, query: AllianceQuery
) -> tuple[float, dict[str, float]] | None:
    """Score of a group of neighbourhood positions; None when two members compete or
    belong to one organisation."""
    same_field = local.same_field
    pairs = list(combinations(group, 2))
    firms = local.firms
    if any(
        same_field[a][b] >= query.competition_similarity
        or (firms[a].activities & firms[b].activities)
        for a, b in pairs
    ):
        return None
    if len({local.firms[i].organization_id for i in group}) < len(group):
        return None  # two profiles of one organisation are not two partners
    # Each member's needs, met by the best offer among the others (members without
    # needs do not count here).
    met = [
        max(local.meets[other][member] for other in group if other != member)
        for member in group
        if local.has_needs[member]
    ]
    _, market_share = _joint_market([local.firms[i] for i in group], query.market)
    regions = local.regions
    same_region = [regions[a] is not None and regions[a] == regions[b] for a, b in pairs]
    closest = max(same_field[a][b] for a, b in pairs)
    span = max(query.competition_similarity - query.competition_onset, 1e-9)
    components = {
        "complementarity": sum(met) / len(met) if met else 0.0,
        "cohesion": sum(same_field[a][b] for a, b in pairs) / len(pairs),
        "no_competition": 1.0 - min(max((closest - query.competition_onset) / span, 0.0), 1.0),
        "market": market_share,
        "proximity": sum(same_region) / len(pairs),
    }
    score = sum(query.weights[name] * value for name, value in components.items())
    return score, components


def _neighbourhood(pool: _Pool, seed: int, size: int) -> list[int]:
    """The seed and the firms closest to it by complementarity (either way) and field."""
    seed_meets = np.where(pool.has_needs, pool.needs @ pool.offers[seed], 0.0)
    met_by = pool.offers @ pool.needs[seed] if pool.has_needs[seed] else 0.0
    same_field = pool.offers @ pool.offers[seed]
    closeness = np.maximum(seed_meets, met_by) + 0.5 * same_field
    closeness[seed] = -np.inf
    order = np.argsort(-closeness, kind="stable")[: size - 1]
    return [seed, *(int(i) for i in order)]


def _grow(
    pool: _Pool, members: list[int], query: AllianceQuery
) -> list[tuple[float, tuple[int, ...], dict[str, float]]]:
    """Beam search from the seed (first of ``members``) inside its neighbourhood."""
    meets, same_field = pool.relations(members, members)
    # indices below are positions in ``members``; pool indices are members[position]
    local = _Local(
        meets=meets.tolist(),
        same_field=same_field.tolist(),
        has_needs=[bool(pool.has_needs[i]) for i in members],
        regions=[pool.firms[i].region for i in members],
        firms=[pool.firms[i] for i in members],
    )
    beam: list[tuple[int, ...]] = [(0,)]
    found: dict[tuple[int, ...], tuple[float, dict[str, float]]] = {}
    for _size in range(2, query.size_max + 1):
        grown: dict[tuple[int, ...], tuple[float, dict[str, float]]] = {}
        for group in beam:
            for extra in range(1, len(members)):
                if extra in group:
                    continue
                candidate = tuple(sorted((*group, extra)))
                if candidate in grown:
                    continue
                scored = _score(candidate, local, query)
                if scored is not None:
                    grown[candidate] = scored
        ranked = sorted(grown.items(), key=lambda item: (-item[1][0], item[0]))[:_BEAM]
        beam = [group for group, _ in ranked]
        for group, scored in ranked:
            if len(group) >= query.size_min:
                found[group] = scored
        if not beam:
            break
    return [
        (score, tuple(members[i] for i in group), components)
        for group, (score, components) in found.items()
    ]


def _diverse(
    scored: list[tuple[float, tuple[int, ...], dict[str, float]]], query: AllianceQuery
) -> list[tuple[float, tuple[int, ...], dict[str, float]]]:
    """Best groups first; a group sharing more than ``max_shared`` of its members with
    one already picked is skipped."""
    picked: list[tuple[float, tuple[int, ...], dict[str, float]]] = []
    for item in sorted(scored, key=lambda entry: (-entry[0], sorted(entry[1]))):
        members = set(item[1])
        if all(
            len(members & set(other)) <= query.max_shared * min(len(members), len(other))
            for _, other, _ in picked
        ):
            picked.append(item)
        if len(picked) == query.limit:
            break
    return picked


def _auto_seeds(pool: _Pool, count: int) -> list[int]:
    """The firms whose offers best meet what the pool as a whole needs (the mean of its
    needs): a linear-time stand-in for "most complementary to the others"."""
    if not pool.has_needs.any():
        return list(range(min(count, len(pool.firms))))
    common_need = pool.needs[pool.has_needs].mean(axis=0)
    return [int(i) for i in np.argsort(-(pool.offers @ common_need), kind="stable")[:count]]


def find_alliances(firms: Sequence[Firm], query: AllianceQuery) -> list[Candidate]:
    """Candidate groups for ``query`` from ``firms`` (already filtered by region etc.)."""
    eligible = [firm for firm in firms if query.market is None or query.market in firm.markets]
    if query.seed is not None and all(firm.key != query.seed for firm in eligible):
        seed_firm = next((firm for firm in firms if firm.key == query.seed), None)
        if seed_firm is None:
            raise ValueError(f"seed {query.seed} is not in the pool")
        eligible = [seed_firm, *eligible]
    if len(eligible) < query.size_min:
        return []
    pool = _Pool(eligible)
    if query.seed is not None:
        seeds = [next(i for i, firm in enumerate(eligible) if firm.key == query.seed)]
    else:
        seeds = _auto_seeds(pool, min(_AUTO_SEEDS, len(eligible)))
    scored: dict[tuple[int, ...], tuple[float, tuple[int, ...], dict[str, float]]] = {}
    for seed in seeds:
        members = _neighbourhood(pool, seed, min(_NEIGHBOURHOOD, len(eligible)))
        for score, group, components in _grow(pool, members, query):
            key = tuple(sorted(group))
            if key not in scored or scored[key][0] < score:
                # the seed first, then the others in pool order
                ordered = (group[0], *sorted(group[1:]))
                scored[key] = (score, ordered, components)
    candidates = []
    for score, group, components in _diverse(list(scored.values()), query):
        chosen = [eligible[i] for i in group]
        market, _ = _joint_market(chosen, query.market)
        meets, _ = pool.relations(group, group)
        brings: dict[int, int | None] = {}
        for row, firm in enumerate(chosen):
            column = int(np.argmax(np.where(np.arange(len(group)) == row, -np.inf, meets[row])))
            brings[firm.key] = chosen[column].key if meets[row, column] > 0 else None
        candidates.append(
            Candidate(
                members=tuple(firm.key for firm in chosen),
                market=market,
                score=round(score, 6),
                components={name: round(value, 4) for name, value in components.items()},
                meets=brings,
            )
        )
    return candidates
