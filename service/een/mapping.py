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
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from schemas.limits import (
    MAX_MARKETS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
)
from schemas.organizations import OrganizationCreate
from service.een.fields import (
    KNOWN_FIELDS,
    PROFILE_TYPES,
    REFERENCE_PATTERN,
    FieldReader,
    json_type,
    map_size,
    parse_date,
    reference_types,
    refuse_json_constant,
)

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

OFFER_TYPES = frozenset({"BO", "TO"})
REQUEST_TYPES = frozenset({"BR", "TR", "RDR"})
TYPE_LABELS = {
    "BO": "business offer",
    "BR": "business request",
    "TO": "technology offer",
    "TR": "technology request",
    "RDR": "R&D request",
}


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
        data = json.loads(text, parse_constant=refuse_json_constant)
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


def map_profile(item: Any, *, now: datetime) -> MappedProfile:
    """Map one EEN profile; :class:`EenProfileError` lists every bad field at once."""
    if not isinstance(item, dict):
        raise EenProfileError([("", f"a profile must be a JSON object, got {json_type(item)}")])
    if not all(isinstance(key, str) for key in item):
        raise EenProfileError([("", "field names must be strings")])
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    reader = FieldReader(item)
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
