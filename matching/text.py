"""Text normalisation shared by scoring and explanations.

Czech text is folded (diacritics removed, lower-cased) so that "svařování" and
"svarovani" meet; sentences are split on end punctuation, line breaks and list separators.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["content_hash", "fold", "sentences", "tokens"]

# Sentence ends, line breaks, and list separators ("a | b", "• a • b"): each item
# of a list is a statement of its own, and one long line would be cut by the model.
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+|\s+\|\s+|\s*•\s*")
_TOKEN = re.compile(r"[a-z0-9]+(?:[-+][a-z0-9]+)*")
_MIN_SENTENCE_CHARS = 3

# Words that carry no domain meaning; kept short on purpose (both languages).
STOPWORDS = frozenset(
    """a an and are as at be by for from has have in is it its of on or our the to we with
    that this their they us you your will can which who into also such other new
    a i k o s u v z ze na do od po pro pri se si je jsou jako ktery ktera ktere nas
    nase nebo ale tak take jeho jejich pri by byl""".split()
)


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Svařování OCELI" -> "svarovani oceli"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """Folded word tokens without stopwords."""
    return [tok for tok in _TOKEN.findall(fold(text)) if tok not in STOPWORDS]


def sentences(text: str) -> list[str]:
    """Split text into sentences (never empty for non-blank text)."""
    parts = [part.strip() for part in _SENTENCE_END.split(text)]
    found = [part for part in parts if len(part) >= _MIN_SENTENCE_CHARS]
    if not found and text.strip():
        found = [text.strip()]
    return found


def content_hash(text: str) -> str:
    """Stable hash of a text, used to skip re-embedding unchanged facets."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
