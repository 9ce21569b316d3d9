"""Reading the raw fields of one EEN partnering profile: types, references, texts,
dates, countries, NACE codes, keyword codes, the owner's type and size.

:class:`FieldReader` checks each field, collects every problem as (field,
message), and keeps what it read, JSON-ready, as the profile's details.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time
from typing import Any

from schemas import codes
from schemas.limits import (
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_NACE_CODES,
)
from schemas.organizations import SizeClass

__all__ = [
    "KNOWN_FIELDS",
    "PROFILE_TYPES",
    "REFERENCE_PATTERN",
    "FieldReader",
    "json_type",
    "map_size",
    "parse_date",
    "reference_types",
    "refuse_json_constant",
]


PROFILE_TYPES = ("BO", "BR", "TO", "TR", "RDR")

# Type-first (today) or country-first (older profiles). Some strings parse both ways,
# e.g. TRTO…: a Turkish technology offer of old, or a technology request from Tonga.
REFERENCE_PATTERN = re.compile(
    r"(?:(?P<type>BO|BR|TO|TR|RDR)(?P<country>[A-Z]{2})"
    r"|(?P<old_country>[A-Z]{2})(?P<old_type>BO|BR|TO|TR|RDR))[0-9]{8,14}"
)

_TYPE_FIRST = re.compile(r"(BO|BR|TO|TR|RDR)[A-Z]{2}[0-9]{8,14}")

_COUNTRY_FIRST = re.compile(r"[A-Z]{2}(BO|BR|TO|TR|RDR)[0-9]{8,14}")

_TEXT_FIELDS = (
    "summary",
    "description",
    "advantages",
    "expertise_sought",
    "partner_role",
    "owner_brings",
    "stage_of_development",
    "funding_call",
    "status",
)

_TEXT_OR_LIST_FIELDS = ("ipr_status", "partner_sought")

_DATE_FIELDS = ("deadline", "published_at", "expires_at")

_KEYWORD_FIELDS = ("technology_keywords", "market_keywords")

KNOWN_FIELDS = frozenset(
    {
        "reference",
        "type",
        "title",
        "partnership_types",
        "nace",
        "targeted_countries",
        "open_for_eoi",
        "owner_country",
        "owner_type",
        "owner_size",
        *_TEXT_FIELDS,
        *_TEXT_OR_LIST_FIELDS,
        *_DATE_FIELDS,
        *_KEYWORD_FIELDS,
    }
)

_RESEARCH_WORDS = ("universit", "research", "academ", "institut", "laborator", "college")

_RESEARCH_TOKENS = frozenset({"rto", "rtd", "hei", "r&d", "rdi"})

_COMPANY_WORDS = ("compan", "industr", "business", "enterprise", "firm", "corporat", "manufactur")

_COMPANY_TOKENS = frozenset({"sme", "smes", "startup", "start-up", "large", "micro", "spin-off"})


_SIZE_CLASSES: dict[str, SizeClass] = {
    "micro": "micro",
    "small": "small",
    "medium": "medium",
    "large": "large",
}

_SIZE_BAND = re.compile(r"(<=|≤|>=|≥|<|>)?\s*(\d+)\s*(?:(?:-|\u2013|to)\s*(\d+)|(\+))?")

_EEN_NACE = re.compile(r"([A-U])[.\s]?(\d{2}(?:\.\d+)*)")

_DOTTED_CLASS = re.compile(r"(\d{2})\.(\d)\.(\d)")  # EEN writes class 28.41 as 28.4.1

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ].+")


def reference_types(reference: str) -> list[str]:
    """The profile types a reference can stand for: type-first reading first, [] if none."""
    found = []
    if match := _TYPE_FIRST.fullmatch(reference):
        found.append(match.group(1))
    if (match := _COUNTRY_FIRST.fullmatch(reference)) and match.group(1) not in found:
        found.append(match.group(1))
    return found


def parse_date(value: str) -> datetime:
    """An ISO date (the end of that day) or date-time (UTC when without a zone), in UTC."""
    text = value.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), UTC)
        if _ISO_DATE_TIME.fullmatch(text):
            moment = datetime.fromisoformat(text)
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except ValueError:
        pass
    raise ValueError(f"expected an ISO date (YYYY-MM-DD) or date-time, got {value!r}")


def map_size(value: str) -> SizeClass | None:
    """Size class of micro/small/medium/large or an EEN band; None for a bare "SME"."""
    text = " ".join(value.casefold().split())
    if text in _SIZE_CLASSES:
        return _SIZE_CLASSES[text]
    if "large" in text:
        return "large"
    if match := _SIZE_BAND.search(text):
        op, first, second, plus = match.groups()
        number = int(first)
        if second is not None:
            return _size_by_upper_bound(int(second))
        if op in ("<=", "≤"):
            return _size_by_upper_bound(number)
        if op == "<":
            return _size_by_upper_bound(number - 1)
        if op in (">", ">=", "≥") or plus:
            if number >= 250:
                return "large"
        elif op is None:  # a head count
            return _size_by_count(number)
    elif text in ("sme", "smes"):
        return None
    raise ValueError(
        f"unknown size {value!r}: expected micro, small, medium, large or an EEN band "
        "such as 'SME <=10', 'SME 11-49', 'SME 50-249', '>250'"
    )


class FieldReader:
    """Reads and checks the fields of one item, collecting errors and the details."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.errors: list[tuple[str, str]] = []
        self.details: dict[str, Any] = {}

    def error(self, name: str, message: str) -> None:
        self.errors.append((name, message))

    def read_all(self) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        fields["reference"] = self._reference()
        fields["type"] = self._type(fields["reference"])
        fields["title"] = self.text("title", required=True)
        for name in _TEXT_FIELDS:
            fields[name] = self.text(name)
        for name in _TEXT_OR_LIST_FIELDS:
            self.text_or_list(name)
        self.strings("partnership_types")
        fields["keywords"] = self._keywords()
        fields["nace"] = self._nace()
        fields["targeted_countries"] = self._countries()
        for name in _DATE_FIELDS:
            fields[name] = self.date(name)
        fields["open_for_eoi"] = self.boolean("open_for_eoi")
        fields["owner_country"] = self._owner_country()
        fields["kind"] = self._owner_type()
        fields["size"], fields["sme"] = self._owner_size()
        published, expires = fields["published_at"], fields["expires_at"]
        if published is not None and expires is not None and expires < published:
            self.error("expires_at", "is before published_at")
        for name, value in self.item.items():
            if name not in KNOWN_FIELDS:
                self._extra(name, value)
        return fields

    # -- typed readers (each keeps the value in details when it is valid) --

    def text(self, name: str, *, required: bool = False) -> str | None:
        value = self.item.get(name)
        if name in self.item:
            self.details[name] = value
        if value is None:
            if required:
                self.error(name, "is required")
            return None
        if not isinstance(value, str):
            self.error(name, f"expected a string, got {json_type(value)}")
            return None
        if required and not value.strip():
            self.error(name, "must not be empty")
        return value.strip() or None

    def text_or_list(self, name: str) -> None:
        value = self.item.get(name)
        if isinstance(value, list):
            self.strings(name)
        else:
            self.text(name)

    def strings(self, name: str) -> list[tuple[int, str]]:
        """The non-blank strings of a list field, each with its index in the list."""
        value = self.item.get(name)
        if name in self.item:
            self.details[name] = list(value) if isinstance(value, list) else value
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(name, f"expected a list of strings, got {json_type(value)}")
            return []
        found = []
        for index, element in enumerate(value):
            if not isinstance(element, str):
                self.error(name, f"item {index}: expected a string, got {json_type(element)}")
            elif element.strip():
                found.append((index, element.strip()))
        return found

    def date(self, name: str) -> datetime | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.error(name, str(exc))
            return None

    def boolean(self, name: str) -> bool | None:
        value = self.item.get(name)
        if name in self.item:
            self.details[name] = value
        if value is None or isinstance(value, bool):
            return value
        self.error(name, f"expected true or false, got {json_type(value)}")
        return None

    # -- fields with a meaning --

    def _reference(self) -> str:
        value = self.text("reference", required=True)
        if value is None:
            return ""
        reference = value.upper()
        if not REFERENCE_PATTERN.fullmatch(reference):
            self.error(
                "reference",
                f"{value!r} is not an EEN reference (e.g. TOCZ20240903021 or UKTR20150103001)",
            )
        else:
            self.details["reference"] = reference
        return reference

    def _type(self, reference: str) -> str:
        possible = reference_types(reference)
        value = self.text("type")
        if value is None:
            if possible:
                self.details["type"] = possible[0]
            return possible[0] if possible else ""
        profile_type = value.upper()
        if profile_type not in PROFILE_TYPES:
            self.error("type", f"unknown profile type {value!r} (BO, BR, TO, TR or RDR)")
        elif possible and profile_type not in possible:
            self.error("type", f"{profile_type} does not match the reference {reference}")
        else:
            self.details["type"] = profile_type
        return profile_type

    def _keywords(self) -> list[str]:
        keywords: list[str] = []
        for name in _KEYWORD_FIELDS:
            value = self.item.get(name)
            if name in self.item:
                self.details[name] = list(value) if isinstance(value, list) else value
            if value is None:
                continue
            if not isinstance(value, list):
                self.error(name, f"expected a list of keyword codes, got {json_type(value)}")
                continue
            for index, code in enumerate(value):
                if not isinstance(code, str):
                    self.error(
                        name,
                        f"item {index}: keyword codes must be strings (leading zeros matter), "
                        f"got {json_type(code)}",
                    )
                elif not code.strip():
                    self.error(name, f"item {index}: empty keyword code")
                elif len(code.strip()) > MAX_KEYWORD_CHARS:
                    self.error(name, f"item {index}: longer than {MAX_KEYWORD_CHARS} characters")
                elif code.strip() not in keywords:  # 11007 and 011007 stay two keywords
                    keywords.append(code.strip())
        if len(keywords) > MAX_KEYWORDS:
            self.error(_KEYWORD_FIELDS[0], f"more than {MAX_KEYWORDS} keyword codes in all")
        return keywords

    def _nace(self) -> list[str]:
        found: list[str] = []
        for index, value in self.strings("nace"):
            try:
                code = _normalize_een_nace(value)
            except ValueError:
                self.error(
                    "nace",
                    f"item {index}: {value!r} is not a NACE code (e.g. 28.41, C28.41, C.28.4.1)",
                )
                continue
            if code not in found:
                found.append(code)
        if len(found) > MAX_NACE_CODES:
            self.error("nace", f"more than {MAX_NACE_CODES} codes")
        return found

    def _countries(self) -> list[str]:
        found: list[str] = []
        ok = True
        for index, value in self.strings("targeted_countries"):
            try:
                code = codes.normalize_country(value)
            except ValueError as exc:
                self.error("targeted_countries", f"item {index}: {exc}")
                ok = False
                continue
            if code not in found:
                found.append(code)
        if ok and isinstance(self.item.get("targeted_countries"), list):
            self.details["targeted_countries"] = found
        return found

    def _owner_country(self) -> str:
        value = self.text("owner_country", required=True)
        if value is None:
            return ""
        try:
            country = codes.normalize_country(value)
        except ValueError as exc:
            self.error("owner_country", str(exc))
            return ""
        self.details["owner_country"] = country
        return country

    def _owner_type(self) -> str:
        value = self.text("owner_type", required=True)
        if value is None:
            return ""
        kind = _kind(value)
        if kind is None:
            self.error(
                "owner_type",
                f"unknown owner type {value!r}: expected e.g. company, industry, SME, "
                "large company, university, research or R&D institution",
            )
            return ""
        return kind

    def _owner_size(self) -> tuple[SizeClass | None, bool]:
        value = self.text("owner_size")
        if value is None:
            return None, False
        try:
            size = map_size(value)
        except ValueError as exc:
            self.error("owner_size", str(exc))
            return None, False
        return size, "sme" in value.casefold()

    def _extra(self, name: str, value: Any) -> None:
        try:
            self.details[name] = json.loads(json.dumps(value, allow_nan=False))
        except (TypeError, ValueError, RecursionError):
            self.error(name, "not a JSON value (or nested too deeply)")


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def refuse_json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _kind(value: str) -> str | None:
    text = value.casefold()
    tokens = set(re.findall(r"[a-z&-]+", text)) | {text.replace(" ", "")}
    words = re.findall(r"[a-z]+", text)
    if tokens & _RESEARCH_TOKENS or any(w.startswith(_RESEARCH_WORDS) for w in words):
        return "research"
    if tokens & _COMPANY_TOKENS or any(w.startswith(_COMPANY_WORDS) for w in words):
        return "company"
    return None


def _size_by_upper_bound(bound: int) -> SizeClass:
    # EEN's bands (≤10, 11-49, 50-249, 250+) are read by their upper end.
    if bound <= 10:
        return "micro"
    if bound <= 50:
        return "small"
    if bound <= 250:
        return "medium"
    return "large"


def _size_by_count(count: int) -> SizeClass:
    if count < 10:
        return "micro"
    if count < 50:
        return "small"
    if count < 250:
        return "medium"
    return "large"


def _normalize_een_nace(value: str) -> str:
    code = value.split(" - ", 1)[0].strip().upper()
    if match := _EEN_NACE.fullmatch(code):
        code = match.group(2)
    if match := _DOTTED_CLASS.fullmatch(code):
        code = f"{match.group(1)}.{match.group(2)}{match.group(3)}"
    return codes.normalize_nace(code)
