"""Catalog ranking logic on hand-made vectors (the real model is tested through the API)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from matching.catalog import Catalog, Entry, MatchQuery, PrivateAccess
from matching.columns import Columns
from matching.index import VectorIndex
from matching.scoring import Components, KeywordSet, combine, proximity, shared_keywords


def _axis(i: int, dimension: int = 6) -> np.ndarray:
    vector = np.zeros(dimension, dtype=np.float32)
    vector[i] = 1.0
    return vector


def _mix(a: int, b: int, weight: float) -> np.ndarray:
    vector = weight * _axis(a) + (1 - weight) * _axis(b)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def _catalog() -> Catalog:
    catalog = Catalog(6)
    # research 1 offers what the company needs (axis 0)
    catalog.upsert(
        Entry(1, 101, "research", "CZ", "CZ080", KeywordSet.of(["laser"])),
        {"offers": _axis(0), "needs": _axis(3)},
    )
    # research 2 *needs* the same thing as the company: similar, not complementary
    catalog.upsert(
        Entry(2, 102, "research", "CZ", "CZ064"), {"offers": _axis(2), "needs": _axis(0)}
    )
    # research 3 offers something close to the need, in another country
    catalog.upsert(Entry(3, 103, "research", "DE", "DE212"), {"offers": _mix(0, 2, 0.8)})
    # a company offering exactly the need must not appear when asking for research
    catalog.upsert(Entry(4, 104, "company", "CZ", "CZ080"), {"offers": _axis(0)})
    return catalog


def _query(**overrides: object) -> MatchQuery:
    fields: dict[str, object] = {
        "target_kind": "research",
        "needs": _axis(0),
        "offers": _axis(3),
        "keywords": KeywordSet.of(["laser"]),
        "region": "CZ080",
        "country": "CZ",
    }
    fields.update(overrides)
    return MatchQuery(**fields)  # type: ignore[arg-type]


def test_needs_meet_offers_not_needs() -> None:
    results = _catalog().match(_query())
    ids = [item.entry.profile_id for item in results]
    assert ids[0] == 1
    assert ids.index(3) < ids.index(2)
    assert 4 not in ids
    top = results[0].components
    assert top.need_offer == np.float32(1.0)
    assert top.offer_need is not None
    assert top.offer_need > 0.99
    assert results[0].shared_keywords == ("laser",)


def test_filters_are_applied_before_ranking() -> None:
    catalog = _catalog()
    assert [r.entry.profile_id for r in catalog.match(_query(countries=frozenset({"DE"})))] == [3]
    assert [r.entry.profile_id for r in catalog.match(_query(regions=frozenset({"CZ064"})))] == [2]
    excluded = catalog.match(_query(exclude_organization_ids=frozenset({101})))
    assert 1 not in {r.entry.profile_id for r in excluded}


def test_removed_profiles_disappear_and_limit_holds() -> None:
    catalog = _catalog()
    catalog.remove(1)
    results = catalog.match(_query(limit=1))
    assert len(results) == 1
    assert results[0].entry.profile_id == 3


def test_ties_break_by_profile_id() -> None:
    catalog = Catalog(6)
    for profile_id in (9, 5, 7):
        catalog.upsert(Entry(profile_id, profile_id, "research", "CZ", None), {"offers": _axis(1)})
    results = catalog.match(MatchQuery(target_kind="research", needs=_axis(1)))
    assert [r.entry.profile_id for r in results] == [5, 7, 9]


@pytest.mark.parametrize("profiles_per_organization", [1, 3])
def test_ranking_in_columns_equals_scoring_each_candidate_on_its_own(
    profiles_per_organization: int,
) -> None:
    """Candidates are scored in columns (keyword shares included) and an organisation
    is shown by its best profile: the list must equal scoring each candidate with
    :func:`combine`, ranking, and keeping each organisation's best."""
    rng = np.random.default_rng(3)
    vocabulary = ["laser", "welding", "casting", "dairy", "polymers", "robotics", "optics"]
    catalog = Catalog(6)
    entries = []
    for profile_id in range(1, 151):
        vectors = rng.normal(size=(2, 6)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        words = list(rng.choice(vocabulary, size=int(rng.integers(0, 3)), replace=False))
        entry = Entry(
            profile_id,
            (profile_id - 1) // profiles_per_organization + 1,
            "research",
            "CZ",
            str(rng.choice(["CZ080", "CZ064", "CZ010"])),
            KeywordSet.of(words),
        )
        catalog.upsert(entry, {"offers": vectors[0], "needs": vectors[1]})
        entries.append((entry, vectors))
    for source, source_vectors in entries[:20]:
        query = _query(
            needs=source_vectors[1],
            offers=source_vectors[0],
            keywords=KeywordSet.of(vocabulary[source.profile_id % 5 : source.profile_id % 5 + 3]),
            limit=7,
        )
        expected = []
        for entry, vectors in entries:
            _, share = shared_keywords(query.keywords, query.terms, entry.keywords, entry.terms)
            components = Components(
                need_offer=float(vectors[0] @ query.needs),
                offer_need=float(vectors[1] @ query.offers),
                keywords=share,
                proximity=proximity("CZ080", "CZ", entry.region, "CZ"),
            )
            expected.append((-round(combine(components), 6), entry.profile_id))
        expected.sort()
        best: dict[int, int] = {}  # organisation -> its best profile
        for _, pid in expected:
            best.setdefault((pid - 1) // profiles_per_organization + 1, pid)
        ranked = [r.entry.profile_id for r in catalog.match(query)]
        assert ranked == sorted(best.values(), key=[pid for _, pid in expected].index)[:7]


def test_a_source_without_needs_is_matched_by_what_it_does() -> None:
    catalog = _catalog()
    results = catalog.match(_query(needs=None, offers=_axis(2)))
    assert results[0].entry.profile_id == 2  # offers axis 2, like the source
    assert results[0].components.domain is not None
    assert results[0].components.need_offer is None
    with_needs = catalog.match(_query())
    assert all(item.components.domain is None for item in with_needs)


def test_an_organisation_is_shown_once_by_its_best_profile() -> None:
    catalog = Catalog(6)
    # a university with four department profiles that all match the need weakly
    for profile_id, weight in ((11, 0.55), (12, 0.5), (13, 0.45), (14, 0.4)):
        catalog.upsert(
            Entry(profile_id, 500, "research", "CZ", None), {"offers": _mix(0, 4, weight)}
        )
    catalog.upsert(Entry(20, 600, "research", "CZ", None), {"offers": _mix(0, 4, 0.35)})
    catalog.upsert(Entry(30, 700, "research", "CZ", None), {"offers": _axis(5)})
    query = MatchQuery(target_kind="research", needs=_axis(0), limit=2)
    assert [r.entry.profile_id for r in catalog.match(query)] == [11, 20]
    every_profile = catalog.match(replace(query, one_per_organization=False))
    assert [r.entry.profile_id for r in every_profile] == [11, 12]


def test_keywords_still_decide_behind_an_organisation_with_many_strong_profiles() -> None:
    """Keywords are compared only for candidates that could enter the list. An
    organisation whose many profiles lead counts once in that bar: the places behind
    it are still decided with the keyword bonus."""
    catalog = Catalog(6)
    for profile_id in range(1, 11):  # one organisation, ten profiles offering the need
        catalog.upsert(Entry(profile_id, 500, "research", "CZ", None), {"offers": _axis(0)})
    # cosine 0.86 without keywords, 0.85 with the query's keyword (a bonus of 0.1)
    for profile_id, cosine, keywords in ((20, 0.86, []), (21, 0.85, ["laser"])):
        offers = cosine * _axis(0) + np.sqrt(1 - cosine**2) * _axis(1)
        catalog.upsert(
            Entry(profile_id, profile_id, "research", "CZ", None, KeywordSet.of(keywords)),
            {"offers": offers.astype(np.float32)},
        )
    query = MatchQuery(
        target_kind="research", needs=_axis(0), keywords=KeywordSet.of(["laser"]), limit=3
    )
    assert [r.entry.profile_id for r in catalog.match(query)] == [1, 21, 20]


def test_concepts_any_keeps_only_targets_offering_one_of_them() -> None:
    catalog = Catalog(6)
    catalog.upsert(
        Entry(1, 101, "research", "CZ", "CZ080", concepts=frozenset({"machining"})),
        {"offers": _axis(0)},
    )
    catalog.upsert(
        Entry(2, 102, "research", "CZ", "CZ064", concepts=frozenset({"hydrogen", "sensors"})),
        {"offers": _mix(0, 1, 0.9)},
    )
    catalog.upsert(Entry(3, 103, "research", "CZ", "CZ064"), {"offers": _mix(0, 2, 0.8)})
    query = MatchQuery(target_kind="research", needs=_axis(0))

    def ids(**filters: object) -> list[int]:
        return [r.entry.profile_id for r in catalog.match(replace(query, **filters))]

    assert ids() == [1, 2, 3]
    assert ids(concepts_any=frozenset({"hydrogen", "welding"})) == [2]
    assert ids(concepts_any=frozenset({"machining", "sensors"})) == [1, 2]
    assert ids(concepts_any=frozenset({"machining"}), regions=frozenset({"CZ064"})) == []
    assert ids(concepts_any=frozenset()) == []
    # an entry's concepts change with its offers, and go when it goes
    catalog.upsert(Entry(1, 101, "research", "CZ", "CZ080"), {"offers": _axis(0)})
    assert ids(concepts_any=frozenset({"machining"})) == []
    catalog.remove(2)
    assert ids(concepts_any=frozenset({"hydrogen"})) == []


def _ids(catalog: Catalog, **overrides: object) -> set[int]:
    return {item.entry.profile_id for item in catalog.match(_query(**overrides))}


def test_private_profiles_are_returned_only_to_who_may_see_them() -> None:
    catalog = _catalog()
    catalog.upsert(
        Entry(5, 105, "research", "CZ", "CZ080", public=False, created_by_key_id=7),
        {"offers": _axis(0)},
    )
    assert 5 not in _ids(catalog)  # the default access sees no private profile
    assert 5 in _ids(catalog, private_access=PrivateAccess(everything=True))
    assert 5 in _ids(catalog, private_access=PrivateAccess(regions=frozenset({"CZ080"})))
    assert 5 not in _ids(catalog, private_access=PrivateAccess(regions=frozenset({"CZ064"})))
    assert 5 in _ids(catalog, private_access=PrivateAccess(key_id=7))
    assert 5 not in _ids(catalog, private_access=PrivateAccess(key_id=8))
    catalog.upsert(Entry(5, 105, "research", "CZ", "CZ080"), {"offers": _axis(0)})
    assert 5 in _ids(catalog)  # made public


def test_many_hidden_profiles_become_a_filter_and_the_list_still_fills() -> None:
    catalog = Catalog(6)
    rng = np.random.default_rng(3)
    for pid in range(1, 2_201):  # 2,000 private, 200 public (ids 2,001 …)
        vector = _axis(0) + 0.3 * rng.normal(size=6).astype(np.float32)
        catalog.upsert(
            Entry(pid, 1_000 + pid, "research", "CZ", "CZ080", public=pid > 2_000),
            {"offers": (vector / np.linalg.norm(vector)).astype(np.float32)},
        )
    found = _ids(catalog, limit=50, offers=None)
    assert len(found) == 50
    assert all(pid > 2_000 for pid in found)


def test_profiles_expire_when_their_time_comes() -> None:
    catalog = _catalog()
    catalog.upsert(
        Entry(6, 106, "research", "CZ", "CZ080", valid_until=1_000.0), {"offers": _axis(0)}
    )
    catalog.upsert(
        Entry(7, 107, "research", "CZ", "CZ080", valid_until=2_000.0), {"offers": _axis(0)}
    )
    # 7 was extended: its earlier time must not remove it
    catalog.upsert(
        Entry(7, 107, "research", "CZ", "CZ080", valid_until=3_000.0), {"offers": _axis(0)}
    )
    assert catalog.expire(999.0) == []
    assert {6, 7} <= _ids(catalog)
    assert catalog.expire(2_500.0) == [6]
    assert 6 not in _ids(catalog)
    assert 7 in _ids(catalog)
    assert catalog.vectors_of(6) == {}
    assert catalog.expire(3_000.0) == [7]
    assert len(catalog) == 4


def test_a_restored_catalog_matches_and_filters_as_the_original() -> None:
    catalog = _catalog()
    catalog.upsert(
        Entry(5, 105, "research", "CZ", "CZ080", public=False), {"offers": _mix(0, 1, 0.9)}
    )
    catalog.upsert(
        Entry(6, 106, "research", "CZ", "CZ064", valid_until=100.0), {"offers": _axis(0)}
    )
    restored = Catalog.restore(6, catalog.indexes, catalog.state_bytes())
    for overrides in ({}, {"private_access": PrivateAccess(everything=True)}):
        assert restored.match(_query(**overrides)) == catalog.match(_query(**overrides))
    assert 5 in _ids(restored, private_access=PrivateAccess(everything=True))
    assert 5 not in _ids(restored)
    assert restored.expire(100.0) == [6]
    restored.remove(1)
    assert 1 not in _ids(restored)
    assert [
        item.entry.profile_id for item in restored.match(_query(regions=frozenset({"CZ064"})))
    ] == [2]


def test_concept_shares_hold_past_one_word_of_bits() -> None:
    # concepts get bits as they are first seen; the 65th and later need a second word
    columns = Columns()
    many = [f"concept-{i}" for i in range(70)]
    columns.set(1, organization_id=1, region="CZ080", country="CZ", concepts=many[:3])
    columns.set(2, organization_id=2, region=None, country="DE", concepts=many[60:70])
    ids = np.array([1, 2], dtype=np.int64)
    shares = columns.concept_share(ids, frozenset({"concept-0", "concept-65", "unseen"}))
    assert shares.tolist() == pytest.approx([1 / 3, 1 / 3])
    assert np.isnan(columns.concept_share(ids, frozenset())).all()
    assert columns.proximity(ids, "CZ080", "CZ").tolist() == [1.0, 0.0]
    columns.clear(2)
    assert columns.known(np.array([1, 2, 99], dtype=np.int64)).tolist() == [1]


def test_many_profiles_upserted_at_once_train_each_index_once_on_all_its_vectors() -> None:
    """A rebuild loads every profile at once: an index past its threshold is trained on
    all its vectors (the lists a bulk build of that size gets), and the catalog answers
    as one filled profile by profile."""
    dimension, count, threshold = 16, 1_200, 200
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(count, 2, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=2, keepdims=True)
    entries = [
        Entry(pid, pid, "research", "CZ", "CZ080", KeywordSet.of(["laser"] if pid % 3 else []))
        for pid in range(1, count + 1)
    ]

    def fresh() -> Catalog:
        return Catalog(
            dimension,
            {
                f"research:{facet}": VectorIndex(dimension, threshold=threshold)
                for facet in ("offers", "needs")
            },
        )

    bulk, one_by_one = fresh(), fresh()
    profiles = [
        (entry, {"offers": rows[0], "needs": rows[1]})
        for entry, rows in zip(entries, vectors, strict=True)
    ]
    moved = Entry(1, 1, "company", "CZ", "CZ080")  # given first, then replaced below
    bulk.upsert_many([(moved, {"offers": vectors[0, 0]}), *profiles])
    assert 1 not in bulk.indexes["company:offers"]
    for entry, facets in profiles:
        one_by_one.upsert(entry, facets)
    bulk_index = bulk.indexes["research:offers"].describe()
    assert bulk_index["mode"] == "approximate"
    direct = VectorIndex(dimension, threshold=threshold)
    direct.upsert(range(1, count + 1), vectors[:, 0])
    assert bulk_index == direct.describe()  # trained once, on every vector
    assert bulk_index["nlist"] > one_by_one.indexes["research:offers"].describe()["nlist"]
    assert len(bulk) == len(one_by_one) == count
    assert bulk.indexes["research:offers"].ids() == set(range(1, count + 1))
    for source in vectors[:5]:
        query = _query(
            needs=source[1], offers=source[0], keywords=KeywordSet.of(["laser"]), limit=20
        )
        exact = {r.entry.profile_id for r in one_by_one.match(query)}
        found = {r.entry.profile_id for r in bulk.match(query)}
        assert len(exact & found) >= 18  # both approximate: the same partners, nearly all
