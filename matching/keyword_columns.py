"""Keyword shares of many candidates at once.

The keyword component (:func:`matching.scoring.shared_keywords`) compares a
source's keywords with each candidate's keywords and text. Compared one
candidate at a time, in Python, it was the costliest part of a match: hundreds
of candidates, each a walk over sets spread across memory. Here every profile's
folded keywords and text terms are integer ids in :class:`~matching.ragged.RaggedIds`,
and :meth:`KeywordColumns.shares` answers for a whole candidate array with a
few vector operations, to the same value as the one-by-one comparison.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from matching.ragged import RaggedIds
from matching.scoring import KeywordSet

__all__ = ["KeywordColumns"]

Ids = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class KeywordColumns:
    """Each profile's distinct folded keywords and text terms, as ids."""

    def __init__(self) -> None:
        self._keyword_ids: dict[str, int] = {}  # folded keyword -> id
        self._term_ids: dict[str, int] = {}  # text term (and keyword word) -> id
        self._keyword_words = RaggedIds()  # keyword id -> its distinct words' term ids
        self._keywords = RaggedIds()  # profile id -> its distinct keyword ids
        self._terms = RaggedIds()  # profile id -> its distinct term ids

    def set(self, profile_id: int, keywords: KeywordSet, terms: Iterable[str]) -> None:
        """Record one profile's keywords and text terms (replacing earlier ones)."""
        keyword_ids = []
        for folded, words in dict(zip(keywords.folded, keywords.words, strict=True)).items():
            keyword_id = self._keyword_ids.get(folded)
            if keyword_id is None:
                keyword_id = self._keyword_ids[folded] = len(self._keyword_ids)
                self._keyword_words.set(keyword_id, self._add_terms(words))
            keyword_ids.append(keyword_id)
        self._keywords.set(profile_id, keyword_ids)
        self._terms.set(profile_id, self._add_terms(terms))

    def clear(self, profile_id: int) -> None:
        """Forget one profile (unknown ids are ignored)."""
        self._keywords.clear(profile_id)
        self._terms.clear(profile_id)

    def shares(self, ids: Ids, source: KeywordSet, source_terms: frozenset[str]) -> Floats:
        """For each id, :meth:`~matching.scoring.KeywordMatcher.shared`'s share: the
        distinct keywords of either side that the other side mentions (as a keyword, or
        all the keyword's words in its text), over all distinct keywords of both; NaN
        where neither side has any."""
        count = len(ids)
        keywords, owners, _ = self._keywords.gather(ids)
        source_keys = dict(zip(source.folded, source.words, strict=True))  # distinct
        theirs = _positions(keywords, self._known(self._keyword_ids, source_keys)) < 0
        everything = len(source_keys) + np.bincount(owners[theirs], minlength=count)
        # the source's keywords each candidate mentions, and the candidates' own
        # keywords the source's text mentions
        mentioned = self._all_words_in(keywords[theirs], self._known(self._term_ids, source_terms))
        found: Floats = self._mentions_of(source_keys, ids, keywords, owners)
        found += np.bincount(owners[theirs], weights=mentioned, minlength=count)
        shares = np.full(count, np.nan)
        np.divide(found, everything, out=shares, where=everything > 0)
        return shares

    def _all_words_in(self, keyword_ids: npt.NDArray[np.int32], term_ids: Ids) -> Floats:
        """1.0 for each keyword whose words all are among ``term_ids`` (sorted), else 0."""
        distinct, back = np.unique(keyword_ids, return_inverse=True)
        words, owners, lengths = self._keyword_words.gather(distinct.astype(np.int64))
        inside = np.bincount(owners[_positions(words, term_ids) >= 0], minlength=len(distinct))
        all_in: Floats = ((inside == lengths) & (lengths > 0)).astype(np.float64)
        return all_in[back]

    def _mentions_of(
        self,
        source_keys: dict[str, tuple[str, ...]],
        ids: Ids,
        keywords: npt.NDArray[np.int32],
        owners: Ids,
    ) -> Floats:
        """How many of the source's distinct keywords (folded -> words) each id mentions:
        among its keywords (``keywords`` and ``owners`` as gathered for ``ids``), or all
        the keyword's words among its terms."""
        count = len(ids)
        if not source_keys:
            return np.zeros(count)
        # (id, source keyword): the keyword is one of the id's …
        keyword_ids = np.array([self._keyword_ids.get(folded, -1) for folded in source_keys])
        mentioned = np.zeros((count, len(source_keys)), dtype=bool)
        column = _positions(keywords, keyword_ids)
        mentioned[owners[column >= 0], column[column >= 0]] = True
        # … or all its words are among the id's terms
        words = self._known(self._term_ids, {w for ws in source_keys.values() for w in ws})
        needs = np.zeros((len(words), len(source_keys)))  # (word, keyword): 1 if it has it
        required = np.full(len(source_keys), np.inf)  # words a keyword needs (inf: unknown)
        for number, keyword_words in enumerate(source_keys.values()):
            own = self._known(self._term_ids, keyword_words)
            if keyword_words and len(own) == len(set(keyword_words)):
                needs[np.searchsorted(words, own), number] = 1
                required[number] = len(own)
        terms, term_owners, _ = self._terms.gather(ids)
        column = _positions(terms, words)
        held = np.zeros((count, len(words)))
        held[term_owners[column >= 0], column[column >= 0]] = 1
        mentioned |= held @ needs == required
        found: Floats = mentioned.sum(axis=1, dtype=np.float64)
        return found

    @staticmethod
    def _known(vocabulary: dict[str, int], items: Iterable[str]) -> Ids:
        """The sorted ids of the items that have one."""
        return np.array(
            sorted({i for item in items if (i := vocabulary.get(item)) is not None}),
            dtype=np.int64,
        )

    def _add_terms(self, terms: Iterable[str]) -> list[int]:
        """Distinct term ids of ``terms``, new terms given an id."""
        ids = self._term_ids
        return list({ids.setdefault(term, len(ids)) for term in terms})


def _positions(values: npt.NDArray[np.integer], items: npt.NDArray[np.integer]) -> Ids:
    """The index in ``items`` (distinct) of each value, -1 where it is not there: a
    binary search, cheaper than :func:`numpy.isin` for the few items of one query."""
    if not len(items):
        return np.full(len(values), -1, dtype=np.int64)
    order = np.argsort(items)
    ordered = items[order]
    found = np.searchsorted(ordered, values).clip(max=len(items) - 1)
    return np.where(ordered[found] == values, order[found], -1)
