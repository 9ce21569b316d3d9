"""Incremental BM25: agrees with bm25s, and follows upserts and removals."""

from __future__ import annotations

import pickle

import bm25s
import numpy as np
import pytest

from matching.lexical import K1, LexicalIndex, lexical_terms, surface_words

DOCUMENTS = [
    "Laser welding of thin stainless steel sheets and weld inspection.",
    "Svařování laserem a kontrola svarů tenkých plechů.",
    "Probiotic starter cultures extend the shelf life of yoghurts.",
    "Injection moulding of biodegradable polymers and polymer blends.",
    "Computed tomography of aluminium castings finds porosity defects.",
]


def test_terms_are_folded_stemmed_and_without_stopwords() -> None:
    terms = lexical_terms("Svařování a svařovací technologie for the welded parts")
    assert terms[:5] == ["svarova", "svarova", "technol", "welded", "parts"]
    # Czech text also gives the terms of its English gloss, so it meets English text
    assert {"welding", "technol"} <= set(terms[5:])


def test_scores_agree_with_bm25s() -> None:
    corpus = [lexical_terms(text) for text in DOCUMENTS]
    index = LexicalIndex()
    for doc_id, terms in enumerate(corpus):
        index.upsert(doc_id, terms)
    reference = bm25s.BM25(k1=1.2, b=0.75, method="lucene")
    reference.index(corpus, show_progress=False)
    query = lexical_terms("laser welding of steel; porosity of castings")
    expected = reference.get_scores(query)
    found = index.scores(query)
    for doc_id, value in enumerate(expected):
        # bm25s's Lucene variant leaves out the constant factor (k1 + 1)
        assert found.get(doc_id, 0.0) == pytest.approx(float(value) * (K1 + 1), rel=1e-5)
    assert 0 < max(found.values()) < index.ceiling(query)


def test_removal_and_replacement_leave_the_same_statistics_as_a_fresh_build() -> None:
    query = lexical_terms("salt spray corrosion of laser welded steel yoghurts")
    changed = LexicalIndex()
    for doc_id, text in enumerate(DOCUMENTS):
        changed.upsert(doc_id, lexical_terms(text))
    changed.scores(query)  # weights kept per term must follow every change below
    changed.remove(2)
    changed.scores(query)
    changed.upsert(4, lexical_terms("Corrosion testing of coatings in salt spray."))
    changed.scores(query)
    changed.remove(99)
    fresh = LexicalIndex()
    for doc_id, text in enumerate(DOCUMENTS):
        if doc_id == 2:
            continue
        body = "Corrosion testing of coatings in salt spray." if doc_id == 4 else text
        fresh.upsert(doc_id, lexical_terms(body))
    assert changed.scores(query) == pytest.approx(fresh.scores(query))
    assert 2 not in changed.scores(query)
    assert len(changed) == 4


def test_scores_can_be_limited_to_some_documents() -> None:
    index = LexicalIndex()
    for doc_id, text in enumerate(DOCUMENTS):
        index.upsert(doc_id, lexical_terms(text))
    query = lexical_terms("welding porosity")
    assert set(index.scores(query, [0, 2])) == {0}
    assert np.isclose(index.scores(query, [0])[0], index.scores(query)[0])


def test_contributions_name_the_terms_behind_a_score() -> None:
    index = LexicalIndex()
    for doc_id, text in enumerate(DOCUMENTS):
        index.upsert(doc_id, lexical_terms(text))
    query = lexical_terms("porosity in aluminium castings; welding")
    parts = index.contributions(query, 4)
    assert {term for term, _ in parts} == {"porosit", "alumini", "casting"}
    assert sum(value for _, value in parts) == pytest.approx(index.scores(query)[4])
    assert index.contributions(query, 99) == []


def test_surface_words_show_terms_as_written() -> None:
    words = surface_words("Svařování a pórovitost odlitků; Porosity")
    assert words["svarova"] == "svařování"
    assert words["porovit"] == "pórovitost"
    assert words["porosit"] == "porosity"


def test_top_ranks_like_sorting_every_score_with_ties_to_the_lower_id() -> None:
    index = LexicalIndex()
    texts = [*DOCUMENTS, DOCUMENTS[0], "Welding."]  # id 5 ties with id 0
    for doc_id, text in enumerate(texts):
        index.upsert(doc_id, lexical_terms(text))
    index.upsert(7, lexical_terms("Welding robots."))
    index.remove(7)  # a removed document never comes back
    query = lexical_terms("laser welding of castings")
    every = index.scores(query)
    expected = sorted(every, key=lambda doc_id: (-every[doc_id], doc_id))
    for k in (1, 2, 3, len(every), len(every) + 5):
        found = index.top(index.score_all(query), k)
        assert [doc_id for doc_id, _ in found] == expected[:k]
        assert [value for _, value in found] == pytest.approx([every[d] for d in expected[:k]])
    ranked = [doc_id for doc_id, _ in index.top(index.score_all(query), len(every))]
    assert ranked.index(5) == ranked.index(0) + 1  # equal scores: the lower id first
    allowed = {1, 4, 6}
    assert [d for d, _ in index.top(index.score_all(query), 10, allowed)] == [
        d for d in expected if d in allowed
    ]
    assert index.top(index.score_all(query), 0) == []
    assert index.top(index.score_all(["unknown"]), 3) == []
    with pytest.raises(ValueError, match="negative"):
        index.upsert(-1, ["welding"])


def test_an_unpickled_index_scores_as_the_original_through_changes() -> None:
    """A snapshot restores the index by pickle: its caches come back empty, and each
    must be its own, or the first query after a change mixes them up."""
    original = LexicalIndex()
    for doc_id, text in enumerate(DOCUMENTS):
        original.upsert(doc_id, lexical_terms(text))
    query = lexical_terms("salt spray corrosion of laser welded steel")
    original.scores(query)
    restored = pickle.loads(pickle.dumps(original))
    for index in (original, restored):
        index.scores(query)
        index.upsert(9, lexical_terms("Yoghurt cultures for dairies."))  # no query term
    assert restored.scores(query) == pytest.approx(original.scores(query))
