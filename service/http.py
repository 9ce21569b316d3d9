"""HTTP details shared by the feature routes: ETags, If-Match and cursors."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated

from fastapi import Header, Response

from service.errors import InvalidInput, PreconditionFailed

IfMatchHeader = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The version you read, as its ETag (e.g. "3"); a stale one gives 412',
    ),
]


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    """Put the version's ETag on a response."""
    response.headers["ETag"] = etag(version)


def check_if_match(if_match: str | None, version: int) -> None:
    """Refuse a write made against another version (no header: no check)."""
    if if_match is None or if_match.strip() == "*":
        return
    tags = {tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")}
    if str(version) not in tags:
        raise PreconditionFailed(
            f"the resource is at version {version}, not {if_match.strip()}; read it again",
            current_version=version,
        )


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the page after ``last_id``."""
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id a cursor continues after (0 for none)."""
    if not cursor:
        return 0
    invalid = InvalidInput(
        "the cursor is not one this service gave out",
        errors=[{"parameter": "cursor", "in": "query", "detail": "invalid cursor"}],
    )
    try:
        after = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise invalid
    return after


def encode_keyset(sort: str, key: str | None, last_id: int) -> str:
    """An opaque cursor for the page after the row (``key``, ``last_id``) in ``sort`` order."""
    payload = json.dumps({"sort": sort, "key": key, "after": last_id})
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_keyset(cursor: str | None, sort: str) -> tuple[str | None, int] | None:
    """(key, id) a cursor continues after, None for the first page; the cursor must come
    from a page of the same ``sort``."""
    if not cursor:
        return None
    invalid = InvalidInput(
        "the cursor is not one this service gave out for this sort order",
        errors=[{"parameter": "cursor", "in": "query", "detail": "invalid cursor"}],
    )
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, after = payload["key"], payload["after"]
        same_sort = payload["sort"] == sort
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise invalid from exc
    valid_key = key is None or isinstance(key, str)
    valid_id = isinstance(after, int) and not isinstance(after, bool) and after >= 0
    if not (same_sort and valid_key and valid_id):
        raise invalid
    return key, after
