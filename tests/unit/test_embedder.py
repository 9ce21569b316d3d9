"""Batching by length and facet embedding (fake encoder: logic only)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from matching.embedder import SentenceTransformerEmbedder, embed_facets, length_batches
from matching.language import english_gloss, glossary
from service.config import Settings


def test_length_batches_group_similar_lengths_longest_first() -> None:
    lengths = [10, 300, 12, 280, 9, 11]
    batches = length_batches(lengths, batch_size=3)
    assert batches == [[1, 3], [2, 5, 0], [4]]
    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))


class _CountingEncoder:
    model_id = "fake"
    dimension = 4

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = np.array([[len(t), t.count("a"), 1.0, i] for i, t in enumerate(texts)], np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_embed_facets_encodes_all_sentences_once_and_splits_them_back() -> None:
    encoder = _CountingEncoder()
    facets = embed_facets(encoder, ["One. Two sentences here.", "Alone"])
    assert len(encoder.calls) == 1
    assert encoder.calls[0] == ["One.", "Two sentences here.", "Alone"]
    assert facets[0].sentences == ("One.", "Two sentences here.")
    assert facets[0].sentence_vectors.shape == (2, 4)
    assert facets[1].sentences == ("Alone",)
    for facet in facets:
        assert np.linalg.norm(facet.vector) == pytest.approx(1.0, abs=1e-6)


def test_blank_facet_is_refused() -> None:
    with pytest.raises(ValueError, match="blank"):
        embed_facets(_CountingEncoder(), ["fine", "   "])


def test_real_model_gives_the_same_vectors_batched_by_length(
    embedder: SentenceTransformerEmbedder,
) -> None:
    texts = [
        "Laser welding.",
        "We study aluminium die casting, porosity defects and X-ray computed tomography "
        "of castings, and simulate mould filling and solidification.",
        "Dairy.",
        "Probiotic starter cultures for yoghurts.",
    ]
    batched = embedder.encode(texts)
    one_by_one = np.vstack([embedder.encode([text]) for text in texts])
    assert batched.shape == (4, embedder.dimension)
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)


def test_the_packaged_model_reads_czech_through_the_glossary(
    embedder: SentenceTransformerEmbedder,
) -> None:
    czech = "Hledáme partnera pro svařování laserem."
    assert embedder.czech_glossary
    assert embedder.model_input(czech) == english_gloss(czech)
    assert embedder.model_input("Laser welding.") == "Laser welding."
    assert embedder.model_id.endswith(f"+cs-glossary-{glossary().version}")
    # a Czech need lands next to its English translation, far from an unrelated text
    need, translation, unrelated = embedder.encode(
        [czech, "We seek a partner for laser welding.", "We bake bread and cakes."]
    )
    assert need @ translation > 0.8 > need @ unrelated + 0.4


@pytest.mark.parametrize(("setting", "expected"), [("auto", None), ("on", True), ("off", False)])
def test_the_glossary_setting(setting: str, expected: bool | None) -> None:
    assert Settings(czech_glossary=setting).use_czech_glossary is expected
