"""API keys, the audit trail and erasure of personal data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from schemas.common import Region, StrictModel
from schemas.limits import (
    MAX_EMAIL_CHARS,
    MAX_FILTER_VALUES,
    MAX_KEY_NAME_CHARS,
    MAX_ORIGINS,
    MAX_PERSON_CHARS,
    MAX_PHONE_CHARS,
    MAX_URL_CHARS,
)

Role = Literal["admin", "advisor", "integration", "widget"]
KeyName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEY_NAME_CHARS)
]
Origin = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=MAX_URL_CHARS,
        pattern=r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$",
    ),
]


class KeyCreate(StrictModel):
    """A new API key. Advisors need regions; only widget keys take allowed origins."""

    name: KeyName = Field(description="Who or what uses the key, e.g. 'Brno front office'")
    role: Role
    regions: list[Region] = Field(
        default_factory=list,
        max_length=MAX_FILTER_VALUES,
        description="NUTS 3 codes an advisor works in (required for advisors); for a widget "
        "key, the regions whose advisors get its leads",
    )
    allowed_origins: list[Origin] = Field(
        default_factory=list,
        max_length=MAX_ORIGINS,
        description="Web sites (scheme://host[:port]) a widget key may be used from",
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="After this the key stops working (with a time zone)"
    )
    rate_limit_per_minute: int | None = Field(
        default=None, ge=1, le=100_000, description="Default: the service's setting for the role"
    )

    @model_validator(mode="after")
    def _consistent(self) -> KeyCreate:
        if self.role == "advisor" and not self.regions:
            raise ValueError("an advisor key needs 'regions': the regions it works in")
        if self.role not in {"advisor", "widget"} and self.regions:
            raise ValueError("'regions' is for advisor and widget keys only")
        if self.role != "widget" and self.allowed_origins:
            raise ValueError("'allowed_origins' is for widget keys only")
        if self.expires_at is not None and self.expires_at <= datetime.now(UTC):
            raise ValueError("'expires_at' must be in the future")
        return self


class KeyRead(BaseModel):
    """A stored key: never the key itself, only its public prefix."""

    id: int
    name: str
    role: Role
    prefix: str = Field(description="The key's public start, to recognise it")
    regions: list[str]
    allowed_origins: list[str]
    rate_limit_per_minute: int | None
    bootstrap: bool
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute")


class KeyCreated(KeyRead):
    """A key just made: ``key`` is shown this once and cannot be read again."""

    key: str


class KeyList(BaseModel):
    """Keys in id order."""

    items: list[KeyRead]


class AuditEventRead(BaseModel):
    """One recorded write: field names only, never their values."""

    id: int
    at: datetime
    key_id: int | None
    key_name: str
    role: str
    action: str = Field(description="create, update, delete, note or erase")
    object_type: str
    object_id: int | None
    fields: list[str]


class ErasureRequest(StrictModel):
    """A person whose data is to be erased, by any of e-mail, phone and name."""

    email: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_EMAIL_CHARS)
        ]
        | None
    ) = None
    phone: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=5, max_length=MAX_PHONE_CHARS)
        ]
        | None
    ) = None
    name: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_PERSON_CHARS)
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _something(self) -> ErasureRequest:
        if not (self.email or self.phone or self.name):
            raise ValueError("give at least one of 'email', 'phone' and 'name'")
        return self


class ErasureResult(BaseModel):
    """How many records held the person's data and were erased."""

    contacts: int = Field(description="Contacts deleted")
    opportunities: int = Field(description="Opportunities whose owner was cleared")
    events: int = Field(description="History entries whose text or actor was redacted")
    match_runs: int = Field(description="Free-text match queries that were redacted")
    stored_responses: int = Field(
        description="Responses kept for Idempotency-Key retries that named the person, deleted"
    )
