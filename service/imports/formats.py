"""Reading import files: CSV (UTF-8 or Windows-1250, ``;`` or ``,``), JSON Lines, EEN.

Each format yields :class:`ParsedRow` items: the organisation to store with
its profiles, or the row's errors. Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.organizations import OrganizationCreate
from service.een import mapping as een
from service.jobs import JobFailed

FORMATS = ("csv", "jsonl", "een")
LIST_SEPARATOR = "|"  # inside a CSV cell: nace, keywords, markets
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(frozen=True)
class ProfileExtras:
    """What a profile carries beyond the API body: its source and external identity."""

    external_ref: str | None = None
    valid_until: datetime | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class RowError:
    """One problem of one row; ``field`` is a CSV column or a JSON Pointer."""

    row: int
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class ParsedRow:
    """A valid row: one organisation with its profiles (and their extras)."""

    row: int
    organization: OrganizationCreate
    extras: list[ProfileExtras] = field(default_factory=list)
    source: str = "import"


Parsed = ParsedRow | list[RowError]


def detect(filename: str | None, content: bytes) -> str:
    """The format by file name, else by content."""
    name = (filename or "").lower()
    if name.endswith((".csv", ".txt")):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    head = content.lstrip(codecs.BOM_UTF8).lstrip()[:1]
    if head == b"[" or (head == b"{" and b'"profiles"' in content[:4096]):
        return "een"
    if head == b"{":
        return "jsonl"
    return "csv"


def read(format_: str, content: bytes, *, now: datetime) -> Iterator[Parsed]:
    """The rows of a file in ``format_``; :class:`JobFailed` when the file as a whole
    cannot be read."""
    if format_ == "csv":
        return read_csv(content)
    if format_ == "jsonl":
        return read_jsonl(content)
    return read_een(content, now=now)


# -- CSV -------------------------------------------------------------------------------

ORGANIZATION_COLUMNS = (
    "kind",
    "name",
    "ico",
    "ror",
    "country",
    "region",
    "nace",
    "size",
    "website",
)
CONTACT_COLUMNS = ("contact_name", "contact_position", "contact_email", "contact_phone")
PROFILE_COLUMNS = ("external_ref", "title", "offers", "needs", "keywords", "markets", "public")
COLUMNS = (*ORGANIZATION_COLUMNS, *CONTACT_COLUMNS, *PROFILE_COLUMNS)
REQUIRED = ("kind", "name")
LIST_COLUMNS = {"nace", "keywords", "markets"}
TRUE, FALSE = {"true", "1", "yes", "ano", "y"}, {"false", "0", "no", "ne", "n"}


def decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1250. Bytes that are neither stay as
    lone surrogates, so only the rows holding them fail."""
    if content.startswith(codecs.BOM_UTF8):
        content = content[len(codecs.BOM_UTF8) :]
    text = content.decode("utf-8", errors="surrogateescape")
    if not _SURROGATE.search(text):
        return text
    # Valid UTF-8 letters beside broken bytes: a UTF-8 file with some broken rows.
    if re.search("[\u0080-\uffff]", _SURROGATE.sub("", text)):
        return text
    return content.decode("cp1250", errors="surrogateescape")


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") >= first.count(",") else ","


def read_csv(content: bytes) -> Iterator[Parsed]:
    """Rows of a CSV file; ``row`` is the spreadsheet row (the header is row 1)."""
    text = decode(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        raise JobFailed("the file is empty") from None
    unknown = [name for name in header if name not in COLUMNS]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing:
        raise JobFailed(
            "; ".join(
                part
                for part in (
                    unknown and f"unknown columns: {', '.join(unknown)}",
                    missing and f"missing columns: {', '.join(missing)}",
                )
                if part
            )
            + " (GET /api/v1/imports/template.csv lists the columns)"
        )
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            yield [RowError(number, None, f"{len(cells)} cells where the header has {len(header)}")]
            continue
        yield _csv_row(number, dict(zip(header, cells, strict=True)))


def _csv_row(number: int, cells: dict[str, str]) -> Parsed:
    broken = [name for name, value in cells.items() if _SURROGATE.search(value)]
    if broken:
        return [
            RowError(number, name, "text in neither UTF-8 nor Windows-1250 encoding")
            for name in broken
        ]
    values = {name: value.strip() for name, value in cells.items() if value.strip()}
    errors: list[RowError] = []
    body: dict[str, Any] = {}
    for name in ORGANIZATION_COLUMNS:
        if name in values:
            body[name] = _cell(name, values[name])
    contact = {
        name.removeprefix("contact_"): values[name] for name in CONTACT_COLUMNS if name in values
    }
    if contact:
        body["contacts"] = [contact]
    profile: dict[str, Any] = {
        name: _cell(name, values[name])
        for name in PROFILE_COLUMNS
        if name in values and name not in {"external_ref", "public"}
    }
    if "public" in values:
        flag = values["public"].lower()
        if flag in TRUE | FALSE:
            profile["public"] = flag in TRUE
        else:
            errors.append(RowError(number, "public", "must be true or false (or ano / ne)"))
    body["profiles"] = [profile]
    try:
        organization = OrganizationCreate.model_validate(body)
    except ValidationError as exc:
        errors += [RowError(number, _column(e["loc"]), _clean(e["msg"])) for e in exc.errors()]
    if errors:
        return errors
    return ParsedRow(number, organization, [ProfileExtras(external_ref=values.get("external_ref"))])


def _cell(name: str, value: str) -> Any:
    if name in LIST_COLUMNS:
        return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]
    return value


def _column(location: tuple[Any, ...]) -> str | None:
    """The CSV column a validation error is about."""
    parts = [part for part in location if not isinstance(part, int)]
    if not parts:
        return None
    if parts[0] == "contacts":
        return f"contact_{parts[1]}" if len(parts) > 1 else "contact_name"
    if parts[0] == "profiles":
        return parts[1] if len(parts) > 1 else "offers"
    return str(parts[0])


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


# -- JSON Lines ------------------------------------------------------------------------


def _pointer(location: tuple[Any, ...]) -> str:
    return "#/" + "/".join(str(part) for part in location) if location else "#"


def read_jsonl(content: bytes) -> Iterator[Parsed]:
    """One organisation per line, the body of ``POST /api/v1/organizations``."""
    for number, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            yield [RowError(number, None, "the line is not UTF-8 text")]
            continue
        except json.JSONDecodeError as exc:
            yield [RowError(number, None, f"not JSON: {exc.msg} at column {exc.colno}")]
            continue
        try:
            organization = OrganizationCreate.model_validate(item)
        except ValidationError as exc:
            yield [RowError(number, _pointer(e["loc"]), _clean(e["msg"])) for e in exc.errors()]
            continue
        yield ParsedRow(number, organization, [ProfileExtras() for _ in organization.profiles])


# -- EEN -------------------------------------------------------------------------------


def read_een(content: bytes, *, now: datetime) -> Iterator[Parsed]:
    """EEN partnering profiles, each an anonymous organisation with one profile."""
    try:
        items = een.parse_file(content)
    except een.EenFileError as exc:
        raise JobFailed(str(exc)) from None
    for number, item in enumerate(items, start=1):
        try:
            mapped = een.map_profile(item, now=now)
        except een.EenProfileError as exc:
            yield [RowError(number, name or None, message) for name, message in exc.errors]
            continue
        valid_until = mapped.valid_until
        if not mapped.matchable and (valid_until is None or valid_until > now):
            valid_until = now  # expired or archived: kept, never matched
        extras = ProfileExtras(mapped.external_ref, valid_until, mapped.details)
        yield ParsedRow(number, mapped.organization, [extras], source="een")
