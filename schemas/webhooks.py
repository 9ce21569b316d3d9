"""Webhooks: registering a receiver, and the log of what was sent to it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, Field, StringConstraints, field_validator

from schemas.common import StrictModel
from schemas.limits import MAX_URL_CHARS

WebhookEvent = Literal["match.created", "opportunity.status_changed"]
WEBHOOK_EVENTS: tuple[WebhookEvent, ...] = ("match.created", "opportunity.status_changed")
DeliveryStatus = Literal["pending", "delivered", "failed"]
MAX_WEBHOOKS_PER_KEY = 20

_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]+")


def _http_url(value: str) -> str:
    if not _PRINTABLE_ASCII.fullmatch(value):
        raise ValueError("the URL must be ASCII without spaces (write hosts in punycode)")
    parts = urlsplit(value)
    if parts.scheme.lower() not in {"http", "https"}:
        raise ValueError("the URL must start with https:// or http://")
    if not parts.hostname:
        raise ValueError("the URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("put no credentials in the URL; check the signature instead")
    try:
        _ = parts.port  # parsing it raises on a bad one
    except ValueError as exc:
        raise ValueError("the URL's port is not a number from 0 to 65535") from exc
    return value


WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_URL_CHARS),
    AfterValidator(_http_url),
]


class WebhookCreate(StrictModel):
    """A receiver of events: where to send them and which ones."""

    url: WebhookUrl = Field(
        description="Where deliveries are POSTed (https:// recommended); it must reach a "
        "public address",
        examples=["https://crm.example.com/hooks/partnermatch"],
    )
    events: list[WebhookEvent] = Field(
        min_length=1,
        max_length=len(WEBHOOK_EVENTS),
        description="match.created: a match run involving one of your profiles; "
        "opportunity.status_changed: an opportunity moved in the pipeline",
    )

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        if len(set(events)) != len(events):
            raise ValueError("name each event once")
        return events


class WebhookRead(BaseModel):
    """A registered receiver; its secret is shown only when it is created."""

    id: int
    url: str
    events: list[WebhookEvent]
    active: bool
    created_at: datetime


class WebhookCreated(WebhookRead):
    """A new receiver with its signing secret (the only time it is shown)."""

    secret: str = Field(
        description="Verifies the X-Partnermatch-Signature header of each delivery; keep it "
        "secret: it is never shown again"
    )


class DeliveryRead(BaseModel):
    """One event sent (or being sent) to a receiver."""

    id: int = Field(description="Also sent as X-Partnermatch-Delivery and as 'id' in the body")
    webhook_id: int
    event: WebhookEvent
    object_type: str = Field(description="What the event is about, e.g. opportunity")
    object_id: int
    status: DeliveryStatus = Field(
        description="pending: not yet accepted (retried with backoff); delivered: the "
        "receiver answered 2xx; failed: given up after the retry period"
    )
    attempts: int
    next_attempt_at: datetime = Field(description="When a pending delivery is tried next")
    last_status_code: int | None = Field(description="The receiver's last HTTP status")
    last_error: str | None = Field(description="Why the last attempt failed")
    created_at: datetime
    delivered_at: datetime | None
