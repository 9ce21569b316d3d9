"""The obvious baselines, on whole profile texts (no facets): BM25 and plain cosine."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import bm25s
import numpy as np
import numpy.typing as npt

from bench.quality.metrics import CUTOFF
from bench.quality.model import EvalSet, Org, Query
from matching.text import tokens

Scores = npt.NDArray[np.float64]
Ranker = Callable[[Query], list[str]]


def _query_text(query: Query, orgs: dict[str, Org]) -> str:
    return query.text if query.text is not None else orgs[query.key].whole_text


def _ranked(keys: Sequence[str], scores: Scores, exclude: str) -> list[str]:
    # Stable sort on candidates in key order: ties go to the smaller key.
    order = np.argsort(-scores, kind="stable")
    return [keys[i] for i in order[: CUTOFF + 1] if keys[i] != exclude][:CUTOFF]


def _candidates(evalset: EvalSet, kind: str) -> list[Org]:
    return sorted((org for org in evalset.orgs if org.kind == kind), key=lambda org: org.key)


def bm25_ranker(evalset: EvalSet) -> Ranker:
    """BM25 (bm25s) over folded word tokens of each organisation's whole text."""
    orgs = evalset.by_key()
    indexes = {}
    for kind in {query.target_kind for query in evalset.queries}:
        candidates = _candidates(evalset, kind)
        retriever = bm25s.BM25()
        retriever.index([tokens(org.whole_text) for org in candidates], show_progress=False)
        indexes[kind] = ([org.key for org in candidates], retriever)

    def rank(query: Query) -> list[str]:
        keys, retriever = indexes[query.target_kind]
        scores = np.asarray(retriever.get_scores(tokens(_query_text(query, orgs))), np.float64)
        return _ranked(keys, scores, query.key)

    return rank


def cosine_ranker(
    evalset: EvalSet, encode: Callable[[Sequence[str]], npt.NDArray[np.float32]]
) -> Ranker:
    """Cosine of whole-text embeddings (the model truncates long texts)."""
    matrices = {}
    for kind in {query.target_kind for query in evalset.queries}:
        candidates = _candidates(evalset, kind)
        matrices[kind] = (
            [org.key for org in candidates],
            encode([o.whole_text for o in candidates]),
        )
    free_texts = sorted({q.text for q in evalset.queries if q.text is not None})
    free_vectors = dict(zip(free_texts, encode(free_texts), strict=True)) if free_texts else {}
    org_vectors = {  # a stored profile as query: its own whole-text vector
        key: vector
        for keys, matrix in matrices.values()
        for key, vector in zip(keys, matrix, strict=True)
    }

    def rank(query: Query) -> list[str]:
        keys, matrix = matrices[query.target_kind]
        vector = free_vectors[query.text] if query.text is not None else org_vectors[query.key]
        return _ranked(keys, (matrix @ vector).astype(np.float64), query.key)

    return rank
