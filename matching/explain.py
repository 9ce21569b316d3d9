"""Why a pair matched, in words a person can check.

The best evidence is the pair of sentences — one from the source's needs, one
from the target's offers — whose embeddings are closest; the reciprocal
direction gives a second pair. Shared keywords, shared taxonomy concepts (with
their Czech and English labels), the words behind the lexical score and
proximity complete it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Evidence", "FacetSentences", "best_evidence", "explain"]

Vectors = npt.NDArray[np.float32]
_QUOTE_CHARS = 160


@dataclass(frozen=True)
class FacetSentences:
    """A facet's sentences and their unit vectors (one row per sentence)."""

    sentences: tuple[str, ...]
    vectors: Vectors


@dataclass(frozen=True)
class Evidence:
    """The closest sentence pair between two facets (first, second)."""

    first: str
    second: str
    similarity: float

    def as_dict(self, first_key: str, second_key: str) -> dict[str, Any]:
        """JSON-ready form with the sentences under the given names."""
        return {
            first_key: self.first,
            second_key: self.second,
            "similarity": round(self.similarity, 4),
        }


def best_evidence(first: FacetSentences | None, second: FacetSentences | None) -> Evidence | None:
    """The most similar pair of sentences, one from each facet; ties go to the earliest."""
    if first is None or second is None or not first.sentences or not second.sentences:
        return None
    similarity = first.vectors @ second.vectors.T
    i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
    return Evidence(first.sentences[i], second.sentences[j], float(similarity[i, j]))


def _quote(sentence: str) -> str:
    text = sentence if len(sentence) <= _QUOTE_CHARS else sentence[: _QUOTE_CHARS - 1] + "…"
    return f"“{text}”"


def explain(
    *,
    forward: Evidence | None,
    reciprocal: Evidence | None,
    domain: Evidence | None,
    shared: list[str],
    shared_terms: list[str],
    shared_concepts: list[dict[str, str]] | None = None,
    same_region: bool,
    same_country: bool,
    target_name: str,
) -> dict[str, Any]:
    """Structured explanation plus a one-paragraph summary.

    ``forward`` pairs (source need, target offer), ``reciprocal`` (target need,
    source offer), ``domain`` (source offer, target offer).
    """
    lines: list[str] = []
    if forward is not None:
        lines.append(
            f"{target_name} offers {_quote(forward.second)}, which answers the need "
            f"{_quote(forward.first)} (similarity {forward.similarity:.2f})."
        )
    if domain is not None:
        lines.append(
            f"{target_name} works on {_quote(domain.second)}, close to "
            f"{_quote(domain.first)} (similarity {domain.similarity:.2f})."
        )
    if reciprocal is not None:
        lines.append(
            f"In return, it seeks {_quote(reciprocal.first)}, met by "
            f"{_quote(reciprocal.second)} (similarity {reciprocal.similarity:.2f})."
        )
    if shared:
        lines.append("Shared keywords: " + ", ".join(shared) + ".")
    concepts = shared_concepts or []
    if concepts:
        named = (c["en"] if c["en"] == c["cs"] else f"{c['en']} ({c['cs']})" for c in concepts)
        lines.append("Shared concepts: " + ", ".join(named) + ".")
    if shared_terms:
        lines.append("Words in common: " + ", ".join(shared_terms) + ".")
    if same_region:
        lines.append("Same region.")
    elif same_country:
        lines.append("Same country.")
    return {
        "summary": " ".join(lines),
        "need_offer": forward.as_dict("need_sentence", "offer_sentence") if forward else None,
        "offer_need": (
            reciprocal.as_dict("need_sentence", "offer_sentence") if reciprocal else None
        ),
        "domain": domain.as_dict("source_sentence", "target_sentence") if domain else None,
        "shared_keywords": shared,
        "shared_terms": shared_terms,
        "shared_concepts": concepts,
    }
