"""Text normalisation, score components and their combination."""

from __future__ import annotations

import pytest

from matching.scoring import (
    BONUSES,
    RELEVANCE_WEIGHTS,
    Components,
    KeywordMatcher,
    KeywordSet,
    combine,
    proximity,
    shared_keywords,
)
from matching.text import fold, sentences, tokens


def test_fold_removes_czech_diacritics_and_case() -> None:
    assert fold("Svařování OCELI, řízení jakosti") == "svarovani oceli, rizeni jakosti"


def test_tokens_drop_stopwords_and_keep_compounds() -> None:
    assert tokens("We need CO2-free laser welding of the parts") == [
        "need",
        "co2-free",
        "laser",
        "welding",
        "parts",
    ]


def test_sentences_split_on_punctuation_and_lines() -> None:
    assert sentences("First one. Second one!\nThird; fourth") == [
        "First one.",
        "Second one!",
        "Third;",
        "fourth",
    ]
    assert sentences("no end punctuation") == ["no end punctuation"]
    assert sentences("   ") == []


def test_score_is_relevance_plus_bonuses() -> None:
    assert combine(Components(need_offer=0.5)) == pytest.approx(0.5)
    full = Components(need_offer=0.6, offer_need=0.2, keywords=0.5, proximity=1.0)
    relevance = (RELEVANCE_WEIGHTS["need_offer"] * 0.6 + RELEVANCE_WEIGHTS["offer_need"] * 0.2) / (
        RELEVANCE_WEIGHTS["need_offer"] + RELEVANCE_WEIGHTS["offer_need"]
    )
    expected = relevance + BONUSES["keywords"] * 0.5 + BONUSES["proximity"] * 1.0
    assert combine(full) == pytest.approx(expected)
    assert combine(Components()) == 0.0


def test_missing_bonus_does_not_inflate_the_rest() -> None:
    assert combine(Components(need_offer=0.4, keywords=0.0)) == pytest.approx(0.4)
    assert combine(Components(domain=0.4, proximity=None)) == pytest.approx(0.4)
    assert combine(Components(domain=0.4, proximity=1.0)) > 0.4


def test_reciprocal_signal_raises_the_score() -> None:
    base = Components(need_offer=0.5, offer_need=0.1)
    better = Components(need_offer=0.5, offer_need=0.6)
    assert combine(better) > combine(base)


def test_proximity_levels() -> None:
    assert proximity("CZ080", "CZ", "CZ080", "CZ") == 1.0
    assert proximity("CZ080", "CZ", "CZ064", "CZ") == 0.5
    assert proximity("CZ080", "CZ", "DE212", "DE") == 0.0
    assert proximity(None, None, "CZ080", "CZ") is None


def test_shared_keywords_match_keywords_and_text_ignoring_accents() -> None:
    shared, share = shared_keywords(
        KeywordSet.of(["Svařování", "machine vision", "tooling"]),
        frozenset(tokens("we weld and cut")),
        KeywordSet.of(["svarovani", "robotics"]),
        frozenset(tokens("robotic cells with machine vision inspection")),
    )
    assert shared == ["machine vision", "Svařování"]
    # folded keywords: svarovani, machine vision, tooling, robotics -> 2 of 4 shared
    assert share == pytest.approx(2 / 4)


def test_one_matcher_against_many_targets_answers_as_a_fresh_one_each_time() -> None:
    """The matcher remembers per target keyword whether the source holds it: that must
    never carry one target's answer over to another."""
    source = KeywordSet.of(["laser welding", "Robotics", "robotics"])
    source_terms = frozenset(tokens("we automate casting lines with vision"))
    targets = [
        (["casting", "laser welding"], "robotics integrator"),
        (["vision"], "nothing in common"),
        (["Casting", "robotics"], "laser welding of steel"),
        ([], "laser welding"),
        (["automate casting"], ""),
    ]
    matcher = KeywordMatcher(source, source_terms)
    for keywords, text in targets:
        target, terms = KeywordSet.of(keywords), frozenset(tokens(text))
        fresh = KeywordMatcher(source, source_terms).shared(target, terms)
        assert matcher.shared(target, terms) == fresh
    shared, share = matcher.shared(KeywordSet.of(["Casting", "robotics"]), frozenset())
    assert shared == ["Casting", "Robotics"]  # the source's own spelling comes first
    assert share == pytest.approx(2 / 3)  # laser welding, robotics, casting


def test_no_keywords_on_either_side_gives_no_component() -> None:
    empty = KeywordSet.of([])
    assert shared_keywords(empty, frozenset(), empty, frozenset({"x"})) == ([], None)


def test_sentences_split_lists_into_items() -> None:
    assert sentences("Projects: Laser welding | Casting of aluminium. Topics: robots") == [
        "Projects: Laser welding",
        "Casting of aluminium.",
        "Topics: robots",
    ]
    assert sentences("We offer: • welding • casting") == ["We offer:", "welding", "casting"]
