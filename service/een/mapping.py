"""EEN partnering profiles → an anonymous organisation with one profile.

An EEN export is UTF-8 JSON: a list of profiles, or ``{"profiles": [...]}``
(other top-level keys are ignored). Each profile is an object with these
fields; a field that is absent or ``null`` counts as not given, and fields not
listed here are kept in ``details`` as given.

========================  =====================  =============================================
EEN field                 JSON type              Mapped to
========================  =====================  =============================================
reference (required)      string                 ``external_ref``; ``TOCZ20240903021`` or the
                                                 older ``UKTR20150103001`` (upper-cased)
type                      string                 ``profile_type``: BO, BR, TO, TR or RDR; must
                                                 agree with the reference, which gives it when
                                                 absent
title (required)          string                 profile ``title`` (≤ 256, else shortened) and
                                                 the first line of the main text (see below)
summary                   string                 main text
description               string                 main text
advantages                string                 main text (advantages and innovations)
expertise_sought          string                 main text (technical specification of an
                                                 offer, or expertise sought by a request)
partner_role              string                 ``needs`` (expected role of the partner)
owner_brings              string                 ``offers`` (what a requester brings, e.g. its
                                                 role in an R&D project)
stage_of_development      string                 details only
ipr_status                string | [string]      details only
partnership_types         [string]               details; proposed in the EOI draft
partner_sought            string | [string]      details only (type and size of partner)
funding_call              string                 details only (RDR: the call)
technology_keywords       [string]               ``keywords`` (codes kept as strings)
market_keywords           [string]               ``keywords`` (codes kept as strings)
nace                      [string]               organisation ``nace``: 28.41, C28.41 or EEN's
                                                 ``C.28.4.1 - Manufacture of…`` → 28.41
targeted_countries        [string]               profile ``markets`` (ISO; UK → GB)
deadline                  date or date-time      RDR: ``valid_until`` when before the expiry
published_at              date or date-time      expiry when ``expires_at`` is absent (+1 year)
expires_at                date or date-time      ``valid_until``
open_for_eoi              boolean                ``false`` → not matchable
status                    string                 only PUBLISHED (the default) is matchable
owner_country (required)  string                 organisation ``country`` (UK → GB)
owner_type (required)     string                 organisation ``kind``: university, research,
                                                 R&D institution… → research; company,
                                                 industry, SME, large company… → company
owner_size                string                 organisation ``size``: micro, small, medium,
                                                 large, or an EEN band (``SME <=10`` → micro,
                                                 ``SME 11-49`` → small, ``SME 50-249`` →
                                                 medium, ``>250`` → large; ``SME`` → unknown)
========================  =====================  =============================================

The main text of an offer (BO, TO) is its ``offers``; of a request (BR, TR,
RDR) its ``needs``. Paragraphs are joined with blank lines in the order of the
table. A text over ``MAX_TEXT_CHARS`` is cut at the last sentence end that
fits and a note says so; the full texts stay in ``details``. The organisation
is named by a label such as ``EEN technology offer TOCZ20240903021 (CZ, SME)``:
EEN profiles are anonymous.

``details`` keeps every field as given, except ``reference`` and ``type``
(upper-cased; ``type`` added from the reference when absent) and
``owner_country`` and ``targeted_countries`` (ISO). Keyword codes are strings
and must be given as strings: ``011007`` and ``11007`` are different keywords.

Dates are ISO 8601; a date alone means the end of that day (UTC), a date-time
without a zone is UTC.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from schemas import codes
from schemas.limits import (
    MAX_KEYWORD_CHARS,
    MAX_KEYWORDS,
    MAX_MARKETS,
    MAX_NACE_CODES,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
)
from schemas.organizations import OrganizationCreate, SizeClass

__all__ = [
    "KNOWN_FIELDS",
    "OFFER_TYPES",
    "PROFILE_TYPES",
    "PUBLISHED",
    "REFERENCE_PATTERN",
    "REQUEST_TYPES",
    "TYPE_LABELS",
    "EenFileError",
    "EenProfileError",
    "MappedProfile",
    "map_profile",
    "map_size",
    "parse_date",
    "parse_file",
    "public_view",
    "reference_types",
    "shared_details",
]

PROFILE_TYPES = ("BO", "BR", "TO", "TR", "RDR")
OFFER_TYPES = frozenset({"BO", "TO"})
REQUEST_TYPES = frozenset({"BR", "TR", "RDR"})
TYPE_LABELS = {
    "BO": "business offer",
    "BR": "business request",
    "TO": "technology offer",
    "TR": "technology request",
    "RDR": "R&D request",
}

# Type-first (today) or country-first (older profiles). Some strings parse both ways,
# e.g. TRTO…: a Turkish technology offer of old, or a technology request from Tonga.
REFERENCE_PATTERN = re.compile(
    r"(?:(?P<type>BO|BR|TO|TR|RDR)(?P<country>[A-Z]{2})"
    r"|(?P<old_country>[A-Z]{2})(?P<old_type>BO|BR|TO|TR|RDR))[0-9]{8,14}"
)
_TYPE_FIRST = re.compile(r"(BO|BR|TO|TR|RDR)[A-Z]{2}[0-9]{8,14}")
_COUNTRY_FIRST = re.compile(r"[A-Z]{2}(BO|BR|TO|TR|RDR)[0-9]{8,14}")

PUBLISHED = "PUBLISHED"
LIFETIME = timedelta(days=365)  # published for a year unless extended

# Main text, then the other facet's fields, in the order they are joined.
_OFFER_TEXTS = ("title", "summary", "description", "advantages", "expertise_sought", "owner_brings")
_OFFER_NEEDS = ("partner_role",)
_REQUEST_TEXTS = (
    "title",
    "summary",
    "description",
    "expertise_sought",
    "advantages",
    "partner_role",
)
_REQUEST_OFFERS = ("owner_brings",)
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
_SENTENCE_END = re.compile(r"[.!?;…](?=\s)|\n")


class EenFileError(ValueError):
    """The file is not an EEN export at all (not JSON, or the wrong top level)."""


class EenProfileError(ValueError):
    """One profile cannot be mapped; ``errors`` lists every bad field as (field, message).

    The field is the EEN field name; an empty name means the profile as a whole.
    """

    def __init__(self, errors: list[tuple[str, str]], reference: str | None = None) -> None:
        self.errors = errors
        self.reference = reference
        super().__init__(
            "; ".join(f"{name}: {message}" if name else message for name, message in errors)
        )


@dataclass(frozen=True)
class MappedProfile:
    """An EEN profile as an anonymous organisation with one profile, plus its EEN facts."""

    organization: OrganizationCreate
    external_ref: str
    valid_until: datetime | None
    matchable: bool
    details: dict[str, Any]
    profile_type: str
    notes: tuple[str, ...] = ()  # what was changed to fit, e.g. a shortened text


def parse_file(content: bytes) -> list[Any]:
    """The profiles of an EEN export (a JSON list, or an object with a ``profiles`` list)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EenFileError(f"not an EEN export: not UTF-8 text (byte {exc.start})") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise EenFileError(
            f"not an EEN export: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:
        raise EenFileError(f"not an EEN export: invalid JSON ({exc})") from None
    if isinstance(data, list):
        return data
    if isinstance(data, dict) and isinstance(data.get("profiles"), list):
        return list(data["profiles"])
    raise EenFileError(
        "not an EEN export: expected a JSON list of profiles or an object with a 'profiles' list"
    )


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


def map_profile(item: Any, *, now: datetime) -> MappedProfile:
    """Map one EEN profile; :class:`EenProfileError` lists every bad field at once."""
    if not isinstance(item, dict):
        raise EenProfileError([("", f"a profile must be a JSON object, got {_json_type(item)}")])
    if not all(isinstance(key, str) for key in item):
        raise EenProfileError([("", "field names must be strings")])
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    reader = _Reader(item)
    fields = reader.read_all()
    reference = fields.get("reference") or None
    if reader.errors:
        raise EenProfileError(reader.errors, reference)

    profile_type: str = fields["type"]
    offer = profile_type in OFFER_TYPES
    notes: list[str] = []
    main = _join(fields, _OFFER_TEXTS if offer else _REQUEST_TEXTS)
    other = _join(fields, _OFFER_NEEDS if offer else _REQUEST_OFFERS)
    offers, needs = (main, other) if offer else (other, main)
    offers = _fit_text(offers, "offers", notes)
    needs = _fit_text(needs, "needs", notes)
    title = _fit_title(fields["title"], notes)
    markets: list[str] = fields["targeted_countries"]
    if len(markets) > MAX_MARKETS:
        notes.append(f"{len(markets)} targeted countries: the first {MAX_MARKETS} are markets")
        markets = markets[:MAX_MARKETS]

    valid_until = _valid_until(fields, profile_type, notes)
    status = (fields.get("status") or PUBLISHED).upper()
    matchable = (
        status == PUBLISHED
        and (valid_until is None or valid_until > now)
        and fields.get("open_for_eoi") is not False
    )
    kind = fields["kind"]
    size = fields["size"]
    body = {
        "kind": kind,
        "name": _label(
            profile_type,
            fields["reference"],
            fields["owner_country"],
            kind,
            size,
            sme=fields["sme"],
        ),
        "country": fields["owner_country"],
        "nace": fields["nace"],
        "size": size,
        "profiles": [
            {
                "title": title,
                "offers": offers,
                "needs": needs,
                "keywords": fields["keywords"],
                "markets": markets,
                "public": True,
            }
        ],
    }
    try:
        organization = OrganizationCreate.model_validate(body)
    except ValidationError as exc:  # a gap in the checks above; still one error type out
        errors = [("", f"{'.'.join(map(str, e['loc']))}: {e['msg']}") for e in exc.errors()]
        raise EenProfileError(errors, reference) from None
    return MappedProfile(
        organization=organization,
        external_ref=fields["reference"],
        valid_until=valid_until,
        matchable=matchable,
        details={key: reader.details[key] for key in item if key in reader.details}
        | reader.details,  # in the order of the input
        profile_type=profile_type,
        notes=tuple(notes),
    )


def public_view(details: dict[str, Any]) -> dict[str, Any]:
    """What public and widget views may show of an EEN profile's owner: country, type, size."""
    view: dict[str, Any] = {}
    for key in ("owner_country", "owner_type", "owner_size"):
        value = details.get(key)
        view[key] = value if isinstance(value, str) else None
    return view


def shared_details(details: dict[str, Any]) -> dict[str, Any]:
    """An EEN profile's details as callers outside its own EEN partner see them: the
    published fields, and of the owner only country, type and size. Fields the file
    carried beyond the EEN format are left out: they may name the owner."""
    view = {
        key: value
        for key, value in details.items()
        if key in KNOWN_FIELDS and not key.startswith("owner_")
    }
    view.update(public_view(details))
    return view


class _Reader:
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
            self.error(name, f"expected a string, got {_json_type(value)}")
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
            self.error(name, f"expected a list of strings, got {_json_type(value)}")
            return []
        found = []
        for index, element in enumerate(value):
            if not isinstance(element, str):
                self.error(name, f"item {index}: expected a string, got {_json_type(element)}")
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
        self.error(name, f"expected true or false, got {_json_type(value)}")
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
                self.error(name, f"expected a list of keyword codes, got {_json_type(value)}")
                continue
            for index, code in enumerate(value):
                if not isinstance(code, str):
                    self.error(
                        name,
                        f"item {index}: keyword codes must be strings (leading zeros matter), "
                        f"got {_json_type(code)}",
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


def _json_type(value: Any) -> str:
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


def _refuse_constant(name: str) -> Any:
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


def _join(fields: dict[str, Any], names: tuple[str, ...]) -> str:
    return "\n\n".join(fields[name] for name in names if fields.get(name))


def _fit_text(text: str, facet: str, notes: list[str]) -> str:
    if len(text) <= MAX_TEXT_CHARS:
        return text
    head = text[:MAX_TEXT_CHARS]
    ends = [match.end() for match in _SENTENCE_END.finditer(head)]
    if ends and ends[-1] > MAX_TEXT_CHARS // 2:
        cut, where = ends[-1], "a sentence end"
    elif (space := head.rfind(" ")) > 0:
        cut, where = space, "a word boundary"
    else:
        cut, where = MAX_TEXT_CHARS, "the limit"
    shortened = head[:cut].rstrip()
    notes.append(
        f"{facet} shortened from {len(text)} to {len(shortened)} characters at {where} "
        "(the full texts are in details)"
    )
    return shortened


def _fit_title(title: str, notes: list[str]) -> str:
    if len(title) <= MAX_TITLE_CHARS:
        return title
    cut = title[: MAX_TITLE_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    notes.append(f"title shortened from {len(title)} to {MAX_TITLE_CHARS} characters at most")
    return cut + "…"


def _valid_until(fields: dict[str, Any], profile_type: str, notes: list[str]) -> datetime | None:
    expires: datetime | None = fields["expires_at"]
    if expires is None and fields["published_at"] is not None:
        expires = fields["published_at"] + LIFETIME
        notes.append("no expires_at: assumed one year after published_at")
    deadline: datetime | None = fields["deadline"]
    if profile_type == "RDR" and deadline is not None and (expires is None or deadline < expires):
        return deadline
    return expires


def _label(
    profile_type: str, reference: str, country: str, kind: str, size: str | None, *, sme: bool
) -> str:
    if kind == "research":
        owner: str | None = "research"
    elif size == "large":
        owner = "large company"
    elif size is not None or sme:
        owner = "SME"
    else:
        owner = None
    facts = f"{country}, {owner}" if owner else country
    return f"EEN {TYPE_LABELS[profile_type]} {reference} ({facts})"
