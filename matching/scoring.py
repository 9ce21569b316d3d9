"""Complementarity score: how well a target answers a source, and why.

Components are raw and comparable across runs (never normalised per run):

- ``need_offer``: cosine of the source's needs and the target's offers — the
  main signal (does the target offer what the source seeks?);
- ``offer_need``: the reciprocal direction, source offers against target needs;
- ``keywords``: share of both sides' keywords found on the other side;
- ``proximity``: 1 same NUTS 3 region, 0.5 same country, 0 otherwise.

A component is ``None`` when it cannot be computed (a facet or keywords are
missing on one side); the score is the weighted mean of the components present.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

from matching.text import fold, tokens

__all__ = ["WEIGHTS", "Components", "combine", "proximity", "shared_keywords"]

WEIGHTS: Mapping[str, float] = {
    "need_offer": 0.60,
    "offer_need": 0.25,
    "keywords": 0.10,
    "proximity": 0.05,
}


@dataclass(frozen=True)
class Components:
    """Raw score components of one source/target pair."""

    need_offer: float | None = None
    offer_need: float | None = None
    keywords: float | None = None
    proximity: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        """Components rounded for storage and display."""
        return {
            name: None if value is None else round(value, 4) for name, value in asdict(self).items()
        }


def combine(components: Components, weights: Mapping[str, float] = WEIGHTS) -> float:
    """Weighted mean of the components present; 0 when none is."""
    present = {name: value for name, value in asdict(components).items() if value is not None}
    total = sum(weights[name] for name in present)
    if total == 0:
        return 0.0
    return float(sum(weights[name] * value for name, value in present.items()) / total)


def proximity(
    source_region: str | None,
    source_country: str | None,
    target_region: str | None,
    target_country: str | None,
) -> float | None:
    """1 for the same region, 0.5 for the same country, 0 otherwise; None if unknown."""
    if source_region and target_region and source_region == target_region:
        return 1.0
    if source_country is None or target_country is None:
        return None
    return 0.5 if source_country == target_country else 0.0


def _found(keyword: str, other_keywords: set[str], other_terms: frozenset[str]) -> bool:
    folded = fold(keyword).strip()
    if folded in other_keywords:
        return True
    words = tokens(keyword)
    return bool(words) and all(word in other_terms for word in words)


def shared_keywords(
    source_keywords: Iterable[str],
    source_terms: frozenset[str],
    target_keywords: Iterable[str],
    target_terms: frozenset[str],
) -> tuple[list[str], float | None]:
    """Keywords of either side found among the other's keywords or text.

    Returns the shared keywords (as written, de-duplicated after folding) and
    their share of all keywords, or None when neither side has any.
    """
    source_list = list(source_keywords)
    target_list = list(target_keywords)
    folded_source = {fold(k).strip() for k in source_list}
    folded_target = {fold(k).strip() for k in target_list}
    everything = folded_source | folded_target
    if not everything:
        return [], None
    shared: dict[str, str] = {}
    for keyword in source_list:
        if _found(keyword, folded_target, target_terms):
            shared.setdefault(fold(keyword).strip(), keyword)
    for keyword in target_list:
        if _found(keyword, folded_source, source_terms):
            shared.setdefault(fold(keyword).strip(), keyword)
    return sorted(shared.values(), key=fold), len(shared) / len(everything)
