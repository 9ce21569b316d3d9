"""Czech or English: language detection, lemmas, and a Czech → English glossary.

The default embedding model reads English only. Czech text reaches it through
a word-level glossary (``matching/data/glossary/*.tsv``: Czech lemma → English
words): each Czech word is lemmatised (``simplemma``), looked up — by lemma,
then by its folded form, then by a stem with the Czech case ending stripped —
and replaced by its English words. Words the glossary lacks (names, acronyms,
international words such as "CNC") are kept as written.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import simplemma
from simplemma.strategies import DefaultStrategy

from matching.text import STOPWORDS, fold

__all__ = ["Glossary", "detect_language", "english_gloss", "glossary", "lemma", "stem"]

DATA_DIR = Path(__file__).resolve().parent / "data"
_WORD = re.compile(r"\w+(?:[-+]\w+)*")
_CZECH_LETTERS = frozenset("áčďéěíňóřšťúůýž")

# Folded Czech case, adjective and verb endings, longest first; a stem keeps at least
# ``_MIN_STEM`` characters so short words are never cut to nothing.
_ENDINGS = sorted(
    """ovych ovymi ovym ovy ove ova ovi ovou imi ymi ami emi ich ych ach ech
    emu ymu imu eho iho ou um em im ym am ho mu a e i o u y
    ovat nout at it et ujeme ujete uje uji aji eji ame ime eme""".split(),
    key=len,
    reverse=True,
)
_MIN_STEM = 4

# Czech function words (folded lemmas) that carry no domain meaning.
_CZECH_FUNCTION_WORDS = frozenset(
    """a aby ale ani at az bez byt by co ci do jak jako jak jakozto jeho jeji jejich jen
    jenz jiz jiny k kde kdy kdo ke ktery mezi mit moci muj nad nas nebo nez o od on ona
    ono oni po pod podle pouze pred pres pri pro s se si sebe svuj tak take tedy ten
    tento to tyto u uz v ve velmi vas vsechen z za ze zda cely dalsi kazdy vice jiz
    tam zde proto protoze vsak tez ktera ktere nasi nase nasich nasim my vy ja ty
    jejichz nami vami""".split()
)


class _RememberingStrategy:
    """simplemma's default lemmatisation, remembering each word's answer: language
    detection asks about the same common words in text after text."""

    __slots__ = ()

    @staticmethod
    @lru_cache(maxsize=1 << 16)
    def get_lemma(token: str, lang: str) -> str | None:
        """The word's lemma in ``lang``, or None when simplemma does not know it."""
        return _DEFAULT_STRATEGY.get_lemma(token, lang)


_DEFAULT_STRATEGY = DefaultStrategy()
# What simplemma.langdetect does, with the remembering strategy: the share of sampled
# words each language knows, by the most common words, then (on a tie) more words.
_DETECTORS = tuple(
    simplemma.LanguageDetector(("cs", "en"), sampler, _RememberingStrategy())
    for sampler in (simplemma.MostCommonTokenSampler(), simplemma.RelaxedMostCommonTokenSampler())
)


def detect_language(text: str) -> str:
    """``"cs"`` for Czech text, ``"en"`` otherwise (the only two the service reads)."""
    words = _WORD.findall(text.lower())
    if not words:
        return "en"
    if any(ch in _CZECH_LETTERS for ch in text.lower()):
        return "cs"
    for detector in _DETECTORS:
        shares = detector.proportion_in_each_language(text)
        czech, english = shares.get("cs", 0.0), shares.get("en", 0.0)
        if czech != english:
            return "cs" if czech > english else "en"
    return "en"


@lru_cache(maxsize=1 << 16)
def lemma(word: str, language: str) -> str:
    """The folded lemma of one word."""
    return fold(simplemma.lemmatize(word.lower(), lang=language))


def stem(folded_word: str) -> str:
    """A folded Czech word without its case ending ("senzoru" → "senzor")."""
    for ending in _ENDINGS:
        if folded_word.endswith(ending) and len(folded_word) - len(ending) >= _MIN_STEM:
            return folded_word[: -len(ending)]
    return folded_word


class Glossary:
    """Czech lemma → English words.

    Looked up by the lemma or the word as written (diacritics matter: "med" is
    honey, "měď" copper), then by their folded forms (text typed without
    diacritics), then by the stem.
    """

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self._exact: dict[str, str] = {}
        self._folded: dict[str, str] = {}
        # folded stem -> (the key's stem as written, English), in file order
        self._by_stem: dict[str, list[tuple[str, str]]] = {}
        digest = hashlib.sha256()
        for czech, english in entries:
            digest.update(f"{czech}\t{english}\n".encode())
            self._exact.setdefault(czech.lower(), english)
            self._folded.setdefault(fold(czech), english)
            folded_stem = stem(fold(czech))
            written_stem = czech.lower()[: len(folded_stem)]
            self._by_stem.setdefault(folded_stem, []).append((written_stem, english))
        self.version = digest.hexdigest()[:8]  # changes whenever an entry does

    @classmethod
    def read(cls, folder: Path) -> Glossary:
        """Every ``*.tsv`` of ``folder`` (``czech<TAB>english`` lines; ``#`` comments)."""
        entries = []
        for path in sorted(folder.glob("*.tsv")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip() or line.startswith("#"):
                    continue
                czech, _, english = line.partition("\t")
                if czech.strip() and english.strip():
                    entries.append((czech.strip(), english.strip()))
        return cls(entries)

    def __len__(self) -> int:
        return len(self._exact)

    def _find(self, written: str, base: str) -> str | None:
        for table, keys in (
            (self._exact, (base, written)),
            (self._folded, (fold(base), fold(written))),
        ):
            for key in keys:
                if key in table:
                    return table[key]
        return None

    def _find_by_stem(self, written: str) -> str | None:
        """By stem, where the diacritics agree ("praskají" is not "práškový")."""
        folded = fold(written)
        folded_stem = stem(folded)
        candidates = self._by_stem.get(folded_stem, [])
        if len(folded) != len(written):  # folding changed the length: prefixes do not align
            return candidates[0][1] if candidates else None
        written_stem = written[: len(folded_stem)]
        for key_stem, english in candidates:
            if key_stem == written_stem:
                return english
        if written_stem == folded_stem and candidates:  # typed without diacritics
            return candidates[0][1]
        return None

    def lookup(self, word: str) -> str | None:
        """English words for one Czech word as written, or None."""
        written = word.lower()
        base = simplemma.lemmatize(written, lang="cs").lower()
        # The lemmatiser drops the negating "ne-" ("nebezpečný" -> "bezpečný",
        # "neurologický" -> "urologický"): never read the word as its opposite.
        negation_dropped = written.startswith("ne") and not base.startswith("ne")
        found = self._find(written, "ne" + base if negation_dropped else base)
        if found is None:
            found = self._find_by_stem(written)
        if found is None and negation_dropped:
            opposite = self._find(base, base)
            return None if opposite is None else "not " + opposite
        return found


@cache
def glossary() -> Glossary:
    """The glossary shipped with the package (read once)."""
    return Glossary.read(DATA_DIR / "glossary")


@lru_cache(maxsize=1024)  # a query's text is read for BM25 terms and for their surface words
def english_gloss(text: str, words: Glossary | None = None) -> str:
    """Czech text rendered word by word in English; English text unchanged.

    Czech function words are dropped; words the glossary lacks are kept.
    """
    if detect_language(text) != "cs":
        return text
    table = words if words is not None else glossary()
    rendered = []
    for word in _WORD.findall(text):
        if fold(word) in STOPWORDS or lemma(word, "cs") in _CZECH_FUNCTION_WORDS:
            continue
        english = table.lookup(word)
        rendered.append(word if english is None else english)
    return " ".join(rendered)
