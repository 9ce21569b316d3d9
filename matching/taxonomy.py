"""A small technology / market taxonomy with Czech and English labels.

``matching/data/taxonomy.json`` lists concepts, each with the phrases that
name it in either language. A text mentions a concept when the lemmas of one
of its phrases occur in a row in the text, whatever the language or the
inflection: "systémy strojového vidění" and "machine vision systems" both
mention ``machine-vision``. Shared concepts count in the score and are named
in the explanation.

The file also groups the top-level concepts into a few broad ``fields``
(energy, health …); a narrower concept belongs to its top ancestor's field.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from matching.language import lemma, stem
from matching.text import fold

__all__ = ["Concept", "Field", "Taxonomy", "field_ids", "taxonomy"]

TAXONOMY_PATH = Path(__file__).resolve().parent / "data" / "taxonomy.json"
_WORD = re.compile(r"\w+(?:[-+]\w+)*")
LANGUAGES = ("cs", "en")


@dataclass(frozen=True)
class Concept:
    """One concept: its id, group and labels."""

    id: str
    group: str
    label_en: str
    label_cs: str
    broader: str | None = None

    def as_dict(self) -> dict[str, str]:
        """JSON-ready form, as shown in explanations."""
        return {"id": self.id, "en": self.label_en, "cs": self.label_cs}


@dataclass(frozen=True)
class Field:
    """A broad field of technology or application, made of top-level concepts."""

    id: str
    label_en: str
    label_cs: str
    concepts: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form, as listed by the API."""
        return {"id": self.id, "label": {"en": self.label_en, "cs": self.label_cs}}


@lru_cache(maxsize=1 << 16)  # a vocabulary repeats: most words are seen before
def _forms(word: str) -> frozenset[str]:
    """Every normal form a word of a text can take: folded, lemmas in both languages, stem."""
    folded = fold(word)
    return frozenset({folded, stem(folded), *(lemma(word, language) for language in LANGUAGES)})


def _term_forms(word: str, language: str) -> frozenset[str]:
    """The forms a phrase word accepts: as written (folded), its lemma and that lemma's stem.

    The written form matters for abbreviations the lemmatiser misreads ("ai" -> "be").
    """
    base = lemma(word, language)
    return frozenset({fold(word), base, stem(base)})


class Taxonomy:
    """Concepts and the phrases that detect them."""

    def __init__(
        self,
        concepts: Iterable[Concept],
        phrases: Iterable[tuple[str, str, str]],
        fields: Iterable[Field] = (),
    ):
        """``phrases``: (concept id, language, phrase)."""
        self.concepts = {concept.id: concept for concept in concepts}
        self.fields = {field.id: field for field in fields}
        self._narrower = _narrower(self.concepts.values())
        # first word's forms -> [(concept id, forms of every word)]
        self._starts: dict[str, list[tuple[str, tuple[frozenset[str], ...]]]] = defaultdict(list)
        for concept_id, language, phrase in phrases:
            words = tuple(_term_forms(word, language) for word in _WORD.findall(phrase.lower()))
            if not words:
                continue
            for form in words[0]:
                self._starts[form].append((concept_id, words))

    @classmethod
    def read(cls, path: Path) -> Taxonomy:
        """Load a taxonomy file (see ``matching/data/taxonomy.json``)."""
        data = json.loads(path.read_text(encoding="utf-8"))
        concepts: list[Concept] = []
        phrases: list[tuple[str, str, str]] = []
        for item in data["concepts"]:
            label = item["label"]
            concepts.append(
                Concept(item["id"], item["group"], label["en"], label["cs"], item.get("broader"))
            )
            for language in LANGUAGES:
                terms = {item["label"][language], *item["terms"].get(language, ())}
                phrases.extend((item["id"], language, term) for term in sorted(terms))
        return cls(concepts, phrases, _fields_of(data))

    def __len__(self) -> int:
        return len(self.concepts)

    def concepts_in(self, text: str) -> frozenset[str]:
        """Ids of the concepts the text mentions."""
        words = [_forms(word) for word in _WORD.findall(text)]
        found: set[str] = set()
        for start, forms in enumerate(words):
            candidates = {entry for form in forms for entry in self._starts.get(form, ())}
            for concept_id, phrase in candidates:
                if concept_id in found or start + len(phrase) > len(words):
                    continue
                if all(accepted & words[start + offset] for offset, accepted in enumerate(phrase)):
                    found.add(concept_id)
        return frozenset(found)

    def field_concepts(self, field_id: str) -> frozenset[str]:
        """The field's concepts and every concept narrower than one of them (KeyError for
        an unknown field)."""
        found: set[str] = set()
        pending = list(self.fields[field_id].concepts)
        while pending:
            concept_id = pending.pop()
            if concept_id not in found:
                found.add(concept_id)
                pending.extend(self._narrower.get(concept_id, ()))
        return frozenset(found)

    def describe(self, concept_ids: Iterable[str]) -> list[Concept]:
        """The concepts of these ids, in label order (unknown ids skipped)."""
        known = (self.concepts[i] for i in concept_ids if i in self.concepts)
        return sorted(known, key=lambda concept: (fold(concept.label_en), concept.id))


def _fields_of(data: Mapping[str, Any]) -> list[Field]:
    """The fields of a parsed taxonomy file, in file order."""
    return [
        Field(item["id"], item["label"]["en"], item["label"]["cs"], tuple(item["concepts"]))
        for item in data.get("fields", ())
    ]


def _narrower(concepts: Iterable[Concept]) -> Mapping[str, list[str]]:
    """Concept id -> ids of the concepts directly below it."""
    below: dict[str, list[str]] = defaultdict(list)
    for concept in concepts:
        if concept.broader is not None:
            below[concept.broader].append(concept.id)
    return dict(below)


@cache
def taxonomy() -> Taxonomy:
    """The taxonomy shipped with the package (read once)."""
    return Taxonomy.read(TAXONOMY_PATH)


@cache
def field_ids() -> tuple[str, ...]:
    """Ids of the shipped taxonomy's fields, in file order, read without building the
    phrase index (cheap enough for import time)."""
    data = json.loads(TAXONOMY_PATH.read_text(encoding="utf-8"))
    return tuple(field.id for field in _fields_of(data))
