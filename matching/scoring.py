"""Complementarity score: how well a target answers a source, and why.

Components are raw and comparable across runs (never normalised per run):

- ``need_offer``: cosine of the source's needs and the target's offers — the
  main signal (does the target offer what the source seeks?);
- ``offer_need``: the reciprocal direction, source offers against target needs;
- ``domain``: cosine of source offers and target offers, only for a source that
  states no needs — it is then matched by what it does;
- ``lexical``: BM25 of the source's needs on the target's offers, as a share
  of the most the query could score;
- ``domain_lexical``: the same for the offers of a source without needs.
  Kept apart from ``lexical`` because the two weigh differently: offers
  against offers share their field's vocabulary, while a need describes a
  problem in other words than the offer that solves it;
- ``keywords``: share of both sides' keywords found on the other side;
- ``concepts``: share of the source's taxonomy concepts of its needs that
  the target's offers mention too; ``domain_concepts`` the same for the
  offers of a source without needs;
- ``proximity``: 1 same NUTS 3 region, 0.5 same country, 0 otherwise.

A component is ``None`` when it cannot be computed. The score is the
*relevance* — the weighted mean of the text components present — plus small
bonuses for shared keywords, shared concepts and proximity, so a missing
bonus never inflates the others.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from matching.text import fold, tokens

__all__ = [
    "BONUSES",
    "DEFAULT_MIN_SCORE",
    "EMPTY_KEYWORDS",
    "RELEVANCE_WEIGHTS",
    "Components",
    "KeywordSet",
    "combine",
    "combine_many",
    "proximity",
    "shared_concepts",
    "shared_keywords",
]

RELEVANCE_WEIGHTS: Mapping[str, float] = {
    "need_offer": 0.7,
    "offer_need": 0.3,
    "domain": 0.7,
    "lexical": 1.5,
    "domain_lexical": 0.75,
}
# Below this score a result is more likely noise than a partner (calibrated with
# queries whose true partner was removed; see docs/quality.md).
DEFAULT_MIN_SCORE = 0.15
# Shared concepts of a need and an offer weigh nothing: measured, they favour
# any organisation of the need's field over the specialist that answers it (the
# concepts are coarser than the need); offers against offers they do help.
BONUSES: Mapping[str, float] = {
    "keywords": 0.10,
    "concepts": 0.0,
    "domain_concepts": 0.2,
    "proximity": 0.05,
}


RELEVANCE_COMPONENTS = ("need_offer", "offer_need", "domain", "lexical", "domain_lexical")
BONUS_COMPONENTS = ("keywords", "concepts", "domain_concepts", "proximity")


@dataclass(frozen=True)
class Components:
    """Raw score components of one source/target pair."""

    need_offer: float | None = None
    offer_need: float | None = None
    domain: float | None = None
    lexical: float | None = None
    domain_lexical: float | None = None
    keywords: float | None = None
    concepts: float | None = None
    domain_concepts: float | None = None
    proximity: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        """Components rounded for storage and display."""
        return {
            name: None if (value := getattr(self, name)) is None else round(value, 4)
            for name in _COMPONENT_NAMES
        }


_COMPONENT_NAMES = tuple(field.name for field in fields(Components))


def combine(
    components: Components,
    relevance_weights: Mapping[str, float] = RELEVANCE_WEIGHTS,
    bonuses: Mapping[str, float] = BONUSES,
) -> float:
    """Relevance (weighted mean of the text components present) plus bonuses."""
    total = 0.0
    weight_sum = 0.0
    for name in RELEVANCE_COMPONENTS:
        value = getattr(components, name)
        if value is not None:
            total += relevance_weights[name] * value
            weight_sum += relevance_weights[name]
    score = total / weight_sum if weight_sum else 0.0
    for name in BONUS_COMPONENTS:
        value = getattr(components, name)
        if value is not None:
            score += bonuses[name] * value
    return score


def combine_many(
    columns: Mapping[str, npt.NDArray[np.float64]],
    size: int,
    relevance_weights: Mapping[str, float] = RELEVANCE_WEIGHTS,
    bonuses: Mapping[str, float] = BONUSES,
) -> npt.NDArray[np.float64]:
    """:func:`combine` for many pairs at once: one column per component present in
    ``columns``, each of ``size`` pairs (NaN where a pair lacks it, like None)."""
    total = np.zeros(size)
    weight_sum = np.zeros(size)
    for name in RELEVANCE_COMPONENTS:
        if name in columns:
            present = ~np.isnan(columns[name])
            total += np.where(present, relevance_weights[name] * columns[name], 0.0)
            weight_sum += np.where(present, relevance_weights[name], 0.0)
    score = np.divide(total, weight_sum, out=np.zeros(size), where=weight_sum > 0)
    for name in BONUS_COMPONENTS:
        if name in columns:
            score += np.where(np.isnan(columns[name]), 0.0, bonuses[name] * columns[name])
    return score


def shared_concepts(
    source: frozenset[str], target: frozenset[str]
) -> tuple[frozenset[str], float | None]:
    """The source's concepts the target mentions too, and their share of the source's
    (None when the source mentions none)."""
    if not source:
        return frozenset(), None
    shared = source & target
    return shared, len(shared) / len(source)


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


@dataclass(frozen=True)
class KeywordSet:
    """Keywords as written, with folded forms and word tokens computed once."""

    written: tuple[str, ...]
    folded: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]

    @functools.cached_property
    def folded_set(self) -> frozenset[str]:
        """The folded keywords as a set (made on first use)."""
        return frozenset(self.folded)

    @classmethod
    def of(cls, keywords: Iterable[str]) -> KeywordSet:
        """Index keywords for :func:`shared_keywords`."""
        written = tuple(keywords)
        return cls(
            written,
            tuple(fold(k).strip() for k in written),
            tuple(tuple(tokens(k)) for k in written),
        )


EMPTY_KEYWORDS = KeywordSet((), (), ())


def _mentions(
    keywords: frozenset[str], terms: frozenset[str], folded: str, words: tuple[str, ...]
) -> bool:
    """Whether a side with these folded keywords and text terms mentions a keyword:
    as one of its keywords, or all the keyword's words in its text."""
    return folded in keywords or bool(words and terms.issuperset(words))


class KeywordMatcher:
    """:func:`shared_keywords` of one source against many targets: the source's side
    is prepared once, and whether a target's keyword is found in the source is
    remembered across targets (they often share keywords)."""

    def __init__(self, source: KeywordSet, source_terms: frozenset[str]) -> None:
        self._source = tuple(zip(source.written, source.folded, source.words, strict=True))
        # distinct (folded, words): a keyword's words follow from its folded form
        self._source_keys = tuple(dict(zip(source.folded, source.words, strict=True)).items())
        self._source_folded = source.folded_set
        self._source_terms = source_terms
        self._in_source: dict[tuple[str, tuple[str, ...]], bool] = {}

    def _found_in_source(self, folded: str, words: tuple[str, ...]) -> bool:
        """Whether a target keyword is one of the source's or all its words are in the
        source's text (remembered: targets often share keywords)."""
        found = self._in_source.get((folded, words))
        if found is None:
            found = _mentions(self._source_folded, self._source_terms, folded, words)
            self._in_source[folded, words] = found
        return found

    def shared(
        self, target: KeywordSet, target_terms: frozenset[str]
    ) -> tuple[list[str], float | None]:
        """The shared keywords (as written, de-duplicated after folding, in the order
        of their folded forms) and their share of all keywords of both sides, or None
        when neither side has any."""
        target_folded = target.folded_set
        everything = self._source_folded | target_folded
        if not everything:
            return [], None
        shared: dict[str, str] = {}
        for written, folded, words in self._source:
            if folded not in shared and _mentions(target_folded, target_terms, folded, words):
                shared[folded] = written
        for written, folded, words in zip(target.written, target.folded, target.words, strict=True):
            if folded not in shared and self._found_in_source(folded, words):
                shared[folded] = written
        # in the order of their folded forms (as fold() of what is written would give)
        return [shared[folded] for folded in sorted(shared)], len(shared) / len(everything)


def shared_keywords(
    source: KeywordSet,
    source_terms: frozenset[str],
    target: KeywordSet,
    target_terms: frozenset[str],
) -> tuple[list[str], float | None]:
    """Keywords of either side found among the other's keywords or text.

    Returns the shared keywords (as written, de-duplicated after folding) and
    their share of all keywords, or None when neither side has any.
    """
    return KeywordMatcher(source, source_terms).shared(target, target_terms)
