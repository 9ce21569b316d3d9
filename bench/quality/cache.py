"""Embeddings cached on disk by model and texts, so repeated runs skip the slow model."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching.embedder import Embedder, FacetEmbedding, embed_facets

CACHE_DIR = Path(__file__).resolve().parents[1] / "results" / "cache"


def _key(model_id: str, mode: str, texts: Sequence[str]) -> str:
    digest = hashlib.sha256(f"{model_id}\n{mode}\n".encode())
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\x00")
    return digest.hexdigest()[:24]


def facets(
    embedder: Embedder, texts: Sequence[str], *, use_cache: bool = True
) -> list[FacetEmbedding]:
    """``embed_facets`` of the texts, from the cache when it has them."""
    path = CACHE_DIR / f"facets-{_key(embedder.model_id, 'facets', texts)}"
    if use_cache and path.with_suffix(".npz").exists():
        with np.load(path.with_suffix(".npz")) as arrays:  # each access re-reads a member
            vectors, sentence_vectors = arrays["vectors"], arrays["sentence_vectors"]
            offsets = arrays["offsets"]
        split = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return [
            FacetEmbedding(
                tuple(split[i]), sentence_vectors[offsets[i] : offsets[i + 1]], vectors[i]
            )
            for i in range(len(texts))
        ]
    made = embed_facets(embedder, texts)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    offsets = np.cumsum([0] + [len(f.sentences) for f in made])
    np.savez(
        path.with_suffix(".npz"),
        vectors=np.vstack([f.vector for f in made]),
        sentence_vectors=np.vstack([f.sentence_vectors for f in made]),
        offsets=offsets,
    )
    path.with_suffix(".json").write_text(
        json.dumps([list(f.sentences) for f in made], ensure_ascii=False), encoding="utf-8"
    )
    return made


def whole(
    embedder: Embedder, texts: Sequence[str], *, use_cache: bool = True
) -> npt.NDArray[np.float32]:
    """``encode`` of whole texts, from the cache when it has them."""
    path = CACHE_DIR / f"whole-{_key(embedder.model_id, 'whole', texts)}.npy"
    if use_cache and path.exists():
        return np.load(path)
    vectors = embedder.encode(texts)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
