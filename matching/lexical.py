"""Okapi BM25 over a changing set of documents, for the lexical score component.

The index is incremental (documents are added and removed as profiles
change), which a static sparse-matrix BM25 cannot do without a rebuild per
write. Terms are folded word tokens, lightly stemmed by truncation — crude but
language-neutral, so "svařování"/"svařovací" and "welding"/"welded" meet.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from matching.language import english_gloss
from matching.text import tokens

__all__ = ["STEM_CHARS", "LexicalIndex", "lexical_terms", "surface_words"]

_WORD = re.compile(r"\w+(?:[-+]\w+)*")

STEM_CHARS = 7
K1 = 1.2
B = 0.75


def _readings(text: str) -> list[str]:
    """The text, and for Czech text also its English gloss, so it meets English text."""
    gloss = english_gloss(text)
    return [text] if gloss == text else [text, gloss]


def lexical_terms(text: str, stem_chars: int = STEM_CHARS) -> list[str]:
    """Folded, stopword-free tokens cut to ``stem_chars`` characters (of the text and,
    for Czech, of its English gloss)."""
    return [token[:stem_chars] for reading in _readings(text) for token in tokens(reading)]


def surface_words(text: str, stem_chars: int = STEM_CHARS) -> dict[str, str]:
    """For each lexical term of ``text``, the first word (lower case, as written) behind it."""
    words: dict[str, str] = {}
    for reading in _readings(text):
        for word in _WORD.findall(reading.lower()):
            for token in tokens(word):
                words.setdefault(token[:stem_chars], word)
    return words


class LexicalIndex:
    """BM25 statistics and postings that follow upserts and removals."""

    def __init__(self) -> None:
        self._postings: dict[str, dict[int, int]] = defaultdict(dict)
        self._documents: dict[int, Counter[str]] = {}
        self._lengths: dict[int, int] = {}
        self._total_length = 0

    def __len__(self) -> int:
        return len(self._documents)

    def upsert(self, doc_id: int, terms: Sequence[str]) -> None:
        """Index a document's terms, replacing what it had."""
        self.remove(doc_id)
        counts = Counter(terms)
        self._documents[doc_id] = counts
        self._lengths[doc_id] = len(terms)
        self._total_length += len(terms)
        for term, count in counts.items():
            self._postings[term][doc_id] = count

    def remove(self, doc_id: int) -> None:
        """Forget a document; unknown ids are ignored."""
        counts = self._documents.pop(doc_id, None)
        if counts is None:
            return
        self._total_length -= self._lengths.pop(doc_id)
        for term in counts:
            postings = self._postings[term]
            del postings[doc_id]
            if not postings:
                del self._postings[term]

    def _idf(self, term: str) -> float:
        frequency = len(self._postings.get(term, ()))
        return math.log(1 + (len(self._documents) - frequency + 0.5) / (frequency + 0.5))

    def ceiling(self, query_terms: Iterable[str]) -> float:
        """The score a document could at most reach for this query (for normalising)."""
        return sum(self._idf(term) * (K1 + 1) for term in set(query_terms))

    def contributions(self, query_terms: Iterable[str], doc_id: int) -> list[tuple[str, float]]:
        """Each query term's part of the document's score, largest first."""
        counts = self._documents.get(doc_id)
        if counts is None:
            return []
        average = self._total_length / len(self._documents)
        norm = K1 * (1 - B + B * self._lengths[doc_id] / average)
        parts = [
            (term, self._idf(term) * counts[term] * (K1 + 1) / (counts[term] + norm))
            for term in set(query_terms)
            if term in counts
        ]
        return sorted(parts, key=lambda part: (-part[1], part[0]))

    def scores(
        self, query_terms: Iterable[str], documents: Iterable[int] | None = None
    ) -> dict[int, float]:
        """BM25 of the query for the given documents (all matching ones when None)."""
        if not self._documents:
            return {}
        average = self._total_length / len(self._documents)
        wanted = None if documents is None else set(documents)
        result: dict[int, float] = defaultdict(float)
        for term in set(query_terms):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = self._idf(term)
            ids = postings.keys() if wanted is None else wanted.intersection(postings)
            for doc_id in ids:
                count = postings[doc_id]
                norm = K1 * (1 - B + B * self._lengths[doc_id] / average)
                result[doc_id] += idf * count * (K1 + 1) / (count + norm)
        return dict(result)
