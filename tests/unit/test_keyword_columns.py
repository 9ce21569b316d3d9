"""Keyword shares of many candidates at once equal the one-by-one comparison."""

from __future__ import annotations

import random

import numpy as np
import pytest

from matching.keyword_columns import KeywordColumns
from matching.scoring import KeywordMatcher, KeywordSet
from matching.text import tokens

VOCABULARY = [
    "Laser welding",
    "laser welding",
    "laser  welding",
    "robotics",
    "Robotics",
    "svařování",
    "svarovani",
    "casting",
    "machine vision",
    "vision",
    "coatings",
    "the",  # no words once stopwords go
    "CO2-free casting",
]
TEXTS = [
    "",
    "laser welding of steel",
    "robotic vision cells",
    "casting and svarovani",
    "machine vision for co2-free casting",
    "coatings",
]


def _profile(picker: random.Random) -> tuple[KeywordSet, frozenset[str]]:
    keywords = KeywordSet.of(picker.sample(VOCABULARY, picker.randint(0, 5)))
    return keywords, frozenset(tokens(picker.choice(TEXTS)))


def test_shares_equal_the_full_comparison_through_profile_changes() -> None:
    """Whatever the overlap (keywords in common, found in the other's text, written
    twice, with accents, without words, none at all), and as profiles are replaced
    and removed, each candidate's share is the one its explanation shows."""
    picker = random.Random(11)
    columns = KeywordColumns()
    profiles: dict[int, tuple[KeywordSet, frozenset[str]]] = {}
    for step in range(600):
        profile_id = picker.randrange(1, 120)
        if picker.random() < 0.15:
            columns.clear(profile_id)
            profiles.pop(profile_id, None)
        else:
            profiles[profile_id] = _profile(picker)
            columns.set(profile_id, *profiles[profile_id])
        if step % 20:
            continue
        source, source_terms = _profile(picker)
        source_terms |= frozenset(tokens("unknown words here"))
        ids = np.array(sorted(profiles), dtype=np.int64)
        shares = columns.shares(ids, source, source_terms)
        matcher = KeywordMatcher(source, source_terms)
        for profile_id, share in zip(ids.tolist(), shares.tolist(), strict=True):
            expected = matcher.shared(*profiles[profile_id])[1]
            if expected is None:
                assert np.isnan(share), (source.written, profiles[profile_id])
            else:
                assert share == pytest.approx(expected), (source.written, profiles[profile_id])


def test_a_source_keyword_no_profile_has_counts_and_can_be_found_in_text() -> None:
    columns = KeywordColumns()
    columns.set(1, KeywordSet.of(["casting"]), frozenset(tokens("we weld with lasers")))
    columns.set(2, KeywordSet.of([]), frozenset())
    source = KeywordSet.of(["weld", "brand new keyword"])
    shares = columns.shares(np.array([1, 2, 3], dtype=np.int64), source, frozenset())
    # 1: weld found in its text, of weld, brand new keyword, casting; 2 and 3: nothing
    assert shares.tolist() == pytest.approx([1 / 3, 0.0, 0.0])
    assert np.isnan(columns.shares(np.array([2], dtype=np.int64), KeywordSet.of([]), frozenset()))
