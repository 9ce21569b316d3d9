"""Embeddings cached on disk per model input, so repeated runs skip the slow model.

Each sentence (or whole text) the model reads is cached under the digest of
the base model and of exactly what the model reads — after the Czech glossary
— so changing the glossary re-embeds only the Czech sentences it touches.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching.embedder import Embedder, FacetEmbedding, mean_direction
from matching.text import sentences

CACHE_DIR = Path(__file__).resolve().parents[1] / "results" / "cache"
Vectors = npt.NDArray[np.float32]


class _Store:
    """Vectors by digest, in one ``.npz`` per base model."""

    def __init__(self, embedder: Embedder, use_cache: bool) -> None:
        self.embedder = embedder
        model_id = getattr(embedder, "base_model_id", embedder.model_id)
        self.model_input = getattr(embedder, "model_input", lambda text: text)
        name = hashlib.sha256(model_id.encode()).hexdigest()[:16]
        self.path = CACHE_DIR / f"vectors-{name}.npz"
        self.vectors: dict[str, Vectors] = {}
        if use_cache and self.path.exists():
            with np.load(self.path) as arrays:
                keys, rows = arrays["keys"], arrays["vectors"]
            self.vectors = dict(zip(keys.tolist(), rows, strict=True))

    def digest(self, text: str) -> str:
        return hashlib.sha256(self.model_input(text).encode()).hexdigest()[:32]

    def get(self, texts: Sequence[str]) -> Vectors:
        """Vectors of the texts; missing ones are embedded and saved."""
        digests = [self.digest(text) for text in texts]
        missing = sorted(
            {d: t for d, t in zip(digests, texts, strict=True) if d not in self.vectors}.items()
        )
        if missing:
            made = self.embedder.encode([text for _, text in missing])
            self.vectors.update((d, row) for (d, _), row in zip(missing, made, strict=True))
            CACHE_DIR.mkdir(parents=True, exist_ok=True)
            keys = list(self.vectors)
            np.savez(
                self.path, keys=np.array(keys), vectors=np.vstack([self.vectors[k] for k in keys])
            )
        return (
            np.vstack([self.vectors[d] for d in digests])
            if digests
            else np.zeros((0, 0), np.float32)
        )


def facets(
    embedder: Embedder, texts: Sequence[str], *, use_cache: bool = True
) -> list[FacetEmbedding]:
    """``embed_facets`` of the texts, with sentence vectors from the cache when it has them."""
    store = _Store(embedder, use_cache)
    split = [tuple(sentences(text)) for text in texts]
    rows = store.get([sentence for parts in split for sentence in parts])
    result, start = [], 0
    for parts in split:
        block = rows[start : start + len(parts)]
        start += len(parts)
        result.append(FacetEmbedding(parts, block, mean_direction(block)))
    return result


def whole(
    embedder: Embedder, texts: Sequence[str], *, use_cache: bool = True
) -> npt.NDArray[np.float32]:
    """``encode`` of whole texts, from the cache when it has them."""
    return _Store(embedder, use_cache).get(list(texts))
