"""Language detection, the Czech → English glossary and the bilingual taxonomy."""

from __future__ import annotations

import simplemma

from matching.language import Glossary, detect_language, english_gloss, glossary, stem
from matching.lexical import lexical_terms
from matching.taxonomy import Concept, Taxonomy, taxonomy

SMALL = Glossary(
    [
        ("hledat", "seek"),
        ("partner", "partner"),
        ("měření", "measurement"),
        ("vibrace", "vibration"),
        ("ložisko", "bearing"),
        ("senzor", "sensor"),
        ("obráběcí", "machining"),
        ("stroj", "machine"),
    ]
)


def test_detects_czech_with_and_without_diacritics() -> None:
    assert detect_language("Hledáme partnera pro měření vibrací ložisek.") == "cs"
    assert detect_language("Hledame partnera pro mereni vibraci lozisek a obrabeci stroje") == "cs"
    assert detect_language("We seek a partner to measure bearing vibration.") == "en"
    assert detect_language("") == "en"


def test_detection_agrees_with_simplemma_on_text_without_czech_letters() -> None:
    # detect_language remembers simplemma's answer per word; the decision must stay
    # simplemma's own, ties included
    texts = [
        "Hledame partnera pro mereni vibraci lozisek a obrabeci stroje",
        "We seek a partner to measure bearing vibration.",
        "Nabizime CNC obrabeni a svarovani pro automotive a aerospace",
        "laser laser CNC",
        "Projects: Fog Computing for Robotics and Industrial Automation",
        "vyvoj senzoru pro mereni teploty in harsh environments",
        "abc def ghi",
        "1234 5678",
    ]
    for text in texts:
        scores = dict(simplemma.langdetect(text, lang=("cs", "en")))
        expected = "cs" if scores.get("cs", 0.0) > scores.get("en", 0.0) else "en"
        assert detect_language(text) == expected, text


def test_stem_strips_one_case_ending_but_keeps_short_words() -> None:
    assert stem("senzoru") == "senzor"
    assert stem("vibrace") == stem("vibraci") == "vibrac"
    assert stem("oko") == "oko"


def test_glossary_finds_inflected_words_by_lemma_or_stem() -> None:
    assert SMALL.lookup("ložisek") == "bearing"
    assert SMALL.lookup("senzorů") == "sensor"  # not in the lemma dictionary: by stem
    assert SMALL.lookup("vibracemi") == "vibration"
    assert SMALL.lookup("neznámé") is None


def test_gloss_renders_czech_in_english_and_leaves_english_alone() -> None:
    gloss = english_gloss(
        "Hledáme partnera pro měření vibrací ložisek CNC obráběcích strojů.", SMALL
    )
    assert gloss == "seek partner measurement vibration bearing CNC machining machine"
    english = "We seek a partner for bearing vibration."
    assert english_gloss(english, SMALL) is english or english_gloss(english, SMALL) == english


def test_lexical_terms_of_czech_text_meet_english_terms() -> None:
    czech = set(lexical_terms("Potřebujeme měření vibrací ložisek."))
    english = set(lexical_terms("We offer vibration measurement of bearings."))
    assert {"vibrati", "measure"} <= czech & english


def test_shipped_glossary_is_large_and_versioned() -> None:
    shipped = glossary()
    assert len(shipped) >= 1500
    assert len(shipped.version) == 8
    assert shipped.lookup("svařování") == "welding"


TAX = Taxonomy(
    [Concept("machine-vision", "technology", "machine vision", "strojové vidění")],
    [
        ("machine-vision", "en", "machine vision"),
        ("machine-vision", "en", "computer vision"),
        ("machine-vision", "cs", "strojové vidění"),
        ("machine-vision", "cs", "počítačové vidění"),
    ],
)


def test_taxonomy_finds_concepts_in_either_language_and_any_inflection() -> None:
    assert TAX.concepts_in("Nabízíme strojové vidění pro kontrolu kvality") == {"machine-vision"}
    assert TAX.concepts_in("systémy strojového vidění a robotiky") == {"machine-vision"}
    assert TAX.concepts_in("Computer vision systems for inspection") == {"machine-vision"}
    assert TAX.concepts_in("vidění strojové") == frozenset()  # words must be in order
    assert TAX.concepts_in("machine learning") == frozenset()


def test_shipped_taxonomy_names_concepts_in_both_languages() -> None:
    shipped = taxonomy()
    assert len(shipped) >= 150
    found = shipped.concepts_in("Vyvíjíme systémy strojového vidění pro průmyslovou kontrolu.")
    assert "machine-vision" in found
    described = shipped.describe(found)
    assert all(concept.label_en and concept.label_cs for concept in described)
