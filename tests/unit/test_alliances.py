"""Alliance group search on hand-made vectors (the real model is used by the benchmark)."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest

from matching.alliances import AllianceQuery, Firm, find_alliances

DIMENSION = 12


def _direction(*weights: tuple[int, float]) -> np.ndarray:
    vector = np.zeros(DIMENSION, dtype=np.float32)
    for axis, weight in weights:
        vector[axis] = weight
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _firm(
    key: int, offers: int, needs: int | None, markets: str = "SA", region: str = "CZ064"
) -> Firm:
    # offers share a small common "water" component, so the chain is one field
    return Firm(
        key=key,
        organization_id=100 + key,
        offers=_direction((offers, 1.0), (11, 0.4)),
        needs=None if needs is None else _direction((needs, 1.0), (11, 0.4)),
        markets=frozenset(markets.split()),
        region=region,
    )


PUMPS, CONTROLS, MEMBRANES, CONTRACTOR = 1, 2, 3, 4
POOL = [
    _firm(PUMPS, offers=0, needs=1),  # pumps need control systems
    _firm(CONTROLS, offers=1, needs=2),  # controls need membranes know-how
    _firm(MEMBRANES, offers=2, needs=3),
    _firm(CONTRACTOR, offers=3, needs=0),  # the contractor needs pumps
    _firm(5, offers=0, needs=1),  # a competitor of the pump maker
    _firm(6, offers=1, needs=2, markets="DE"),  # controls, but for another market
    *(_firm(10 + i, offers=5 + i % 5, needs=5 + (i + 1) % 5, markets="US") for i in range(10)),
]


def test_the_chain_is_found_around_its_seed_without_competitors() -> None:
    candidates = find_alliances(
        POOL, AllianceQuery(seed=PUMPS, market="SA", size_min=3, size_max=4)
    )
    assert candidates
    best = candidates[0]
    assert best.members[0] == PUMPS
    assert set(best.members) == {PUMPS, CONTROLS, MEMBRANES, CONTRACTOR}
    assert best.market == "SA"
    assert best.components["market"] == 1.0
    assert best.components["no_competition"] == 1.0  # different roles: far apart offers
    assert best.meets[CONTRACTOR] == MEMBRANES  # its offers meet the membrane maker's needs
    for candidate in candidates:
        assert not {PUMPS, 5} <= set(candidate.members), "two pump makers in one group"
        assert 6 not in candidate.members  # targets DE, not SA
        assert 3 <= len(candidate.members) <= 4


def test_candidates_share_at_most_half_their_members() -> None:
    candidates = find_alliances(POOL, AllianceQuery(size_min=3, size_max=3, limit=10))
    assert len(candidates) >= 2
    for first, second in combinations(candidates, 2):
        assert len(set(first.members) & set(second.members)) <= 1.5
    scores = [candidate.score for candidate in candidates]
    assert scores == sorted(scores, reverse=True)


def test_competitors_may_be_allowed_by_a_looser_threshold() -> None:
    strict = find_alliances(POOL, AllianceQuery(seed=PUMPS, size_max=5, limit=20))
    loose = find_alliances(
        POOL,
        AllianceQuery(
            seed=PUMPS, size_max=5, limit=20, competition_similarity=1.01, competition_onset=1.01
        ),
    )
    assert not any({PUMPS, 5} <= set(c.members) for c in strict)
    assert any({PUMPS, 5} <= set(c.members) for c in loose)


def test_results_are_deterministic_and_bounded() -> None:
    query = AllianceQuery(market="SA", limit=3)
    assert find_alliances(POOL, query) == find_alliances(list(POOL), query)
    assert len(find_alliances(POOL, query)) <= 3
    assert find_alliances(POOL[:2], AllianceQuery()) == []
    with pytest.raises(ValueError, match="seed 999"):
        find_alliances(POOL, AllianceQuery(seed=999))


def test_two_profiles_of_one_organisation_are_never_two_members() -> None:
    second_profile = Firm(
        key=99,
        organization_id=POOL[1].organization_id,
        offers=POOL[2].offers,
        needs=POOL[2].needs,
        markets=frozenset({"SA"}),
        region="CZ064",
    )
    candidates = find_alliances([*POOL, second_profile], AllianceQuery(seed=PUMPS, limit=20))
    for candidate in candidates:
        assert not {CONTROLS, 99} <= set(candidate.members)


def test_firms_of_one_main_activity_are_never_partners() -> None:
    # a pump maker whose offers read differently, registered for the same NACE class
    same_trade = Firm(
        key=77,
        organization_id=177,
        offers=POOL[2].offers,
        needs=POOL[2].needs,
        markets=frozenset({"SA"}),
        region="CZ064",
        activities=frozenset({"28.13"}),
    )
    pumps = replace(POOL[0], activities=frozenset({"28.13"}))
    candidates = find_alliances([pumps, *POOL[1:], same_trade], AllianceQuery(seed=PUMPS, limit=20))
    assert candidates
    assert not any({PUMPS, 77} <= set(c.members) for c in candidates)
    unregistered = find_alliances(
        [*POOL, replace(same_trade, activities=frozenset())], AllianceQuery(seed=PUMPS, limit=20)
    )
    assert any({PUMPS, 77} <= set(c.members) for c in unregistered)
