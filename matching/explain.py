"""Why a pair matched, in words a person can check.

The best evidence is the pair of sentences — one from the source's needs, one
from the target's offers — whose embeddings are closest; the reciprocal
direction gives a second pair. Shared keywords and proximity complete it.
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
    """The closest sentence pair between a needs facet and an offers facet."""

    need_sentence: str
    offer_sentence: str
    similarity: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "need_sentence": self.need_sentence,
            "offer_sentence": self.offer_sentence,
            "similarity": round(self.similarity, 4),
        }


def best_evidence(needs: FacetSentences | None, offers: FacetSentences | None) -> Evidence | None:
    """The most similar (need sentence, offer sentence) pair; ties go to the earliest."""
    if needs is None or offers is None or not needs.sentences or not offers.sentences:
        return None
    similarity = needs.vectors @ offers.vectors.T
    i, j = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
    return Evidence(needs.sentences[i], offers.sentences[j], float(similarity[i, j]))


def _quote(sentence: str) -> str:
    text = sentence if len(sentence) <= _QUOTE_CHARS else sentence[: _QUOTE_CHARS - 1] + "…"
    return f"“{text}”"


def explain(
    *,
    forward: Evidence | None,
    reciprocal: Evidence | None,
    shared: list[str],
    same_region: bool,
    same_country: bool,
    target_name: str,
) -> dict[str, Any]:
    """Structured explanation plus a one-paragraph summary."""
    lines: list[str] = []
    if forward is not None:
        lines.append(
            f"{target_name} offers {_quote(forward.offer_sentence)}, which answers the need "
            f"{_quote(forward.need_sentence)} (similarity {forward.similarity:.2f})."
        )
    if reciprocal is not None:
        lines.append(
            f"In return, it seeks {_quote(reciprocal.need_sentence)}, met by "
            f"{_quote(reciprocal.offer_sentence)} (similarity {reciprocal.similarity:.2f})."
        )
    if shared:
        lines.append("Shared keywords: " + ", ".join(shared) + ".")
    if same_region:
        lines.append("Same region.")
    elif same_country:
        lines.append("Same country.")
    return {
        "summary": " ".join(lines),
        "need_offer": forward.as_dict() if forward else None,
        "offer_need": reciprocal.as_dict() if reciprocal else None,
        "shared_keywords": shared,
    }
