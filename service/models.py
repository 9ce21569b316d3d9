"""Every database table (the only place tables are declared).

The schema itself is changed only by Alembic migrations in ``migrations/``;
a test checks that the migrations and these models agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, LargeBinary, Text, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel, UniqueConstraint

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:  # noqa: ARG002
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


def _timestamp() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Organization(SQLModel, table=True):
    """A company or a research organisation."""

    __tablename__ = "organization"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16, index=True)
    name: str = Field(max_length=300)
    name_folded: str = Field(max_length=300, index=True, description="for search")
    ico: str | None = Field(default=None, max_length=8, unique=True)
    ror: str | None = Field(default=None, max_length=40, unique=True)
    country: str = Field(max_length=2, index=True)
    region: str | None = Field(default=None, max_length=5, index=True)
    nace: list[str] = _json_list()
    size: str | None = Field(default=None, max_length=16)
    website: str | None = Field(default=None, max_length=2048)
    created_by_key_id: int | None = Field(
        default=None, index=True, description="the API key that registered it"
    )
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class Contact(SQLModel, table=True):
    """A person to talk to at an organisation (personal data: erasable on request)."""

    __tablename__ = "contact"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organization.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    name: str = Field(max_length=200)
    position: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254, index=True)
    phone: str | None = Field(default=None, max_length=32)


class Profile(SQLModel, table=True):
    """What an organisation offers and needs; an organisation has one or more."""

    __tablename__ = "profile"

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("organization.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    title: str | None = Field(default=None, max_length=256)
    offers: str = Field(default="", sa_type=Text)
    needs: str = Field(default="", sa_type=Text)
    keywords: list[str] = _json_list()
    markets: list[str] = _json_list()
    source: str = Field(default="manual", max_length=16)
    external_ref: str | None = Field(default=None, max_length=64, unique=True)
    public: bool = Field(default=True)
    valid_until: datetime | None = Field(
        default=None, sa_type=UTCDateTime, index=True, description="not matched after this"
    )
    details: dict[str, Any] | None = Field(
        default=None,
        sa_column=Column(JSON, nullable=True),
        description="fields of the source format kept as given, e.g. an EEN profile's",
    )
    version: int = Field(default=1)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ProfileVector(SQLModel, table=True):
    """A facet's embedding: facet vector plus sentence vectors, for one model."""

    __tablename__ = "profile_vector"
    __table_args__ = (UniqueConstraint("profile_id", "facet"),)

    id: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("profile.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    facet: str = Field(max_length=8)
    model_id: str = Field(max_length=500)
    text_hash: str = Field(max_length=64)
    dimension: int
    vector: bytes = Field(sa_type=LargeBinary)
    sentences: list[str] = _json_list()
    sentence_vectors: bytes = Field(sa_type=LargeBinary)


class IndexChange(SQLModel, table=True):
    """Append-only change sequence: the index replays it to catch up with the database."""

    __tablename__ = "index_change"

    seq: int | None = Field(default=None, primary_key=True)
    profile_id: int = Field(index=True)
    created_at: datetime = _timestamp()


class MatchRun(SQLModel, table=True):
    """One match request as it was asked (immutable)."""

    __tablename__ = "match_run"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _timestamp()
    profile_id: int | None = Field(
        default=None, index=True, description="source profile as asked; kept if it is deleted"
    )
    query_text: str | None = Field(default=None, sa_type=Text)
    target: str = Field(max_length=16)
    limit: int
    regions: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    countries: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    fields: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    exclude_organization_ids: list[int] = _json_list()
    min_score: float = Field(default=0.0, sa_column_kwargs={"server_default": "0"})
    model_id: str = Field(max_length=500)
    index_version: int
    source_organization_id: int | None = Field(default=None, index=True)
    source_region: str | None = Field(default=None, max_length=5, index=True)
    created_by_key_id: int | None = Field(default=None, index=True)


class Match(SQLModel, table=True):
    """One result of a run, exactly as it was returned."""

    __tablename__ = "match"
    __table_args__ = (UniqueConstraint("run_id", "rank"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("match_run.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    rank: int
    profile_id: int = Field(index=True)
    organization: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    score: float
    components: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    explanation: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))


class Opportunity(SQLModel, table=True):
    """A lead an advisor follows up: organisations to bring together, in a pipeline."""

    __tablename__ = "opportunity"
    __table_args__ = (
        # One active opportunity per set of organisations (closed ones do not count).
        Index(
            "uq_opportunity_active_pair",
            "pair_key",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    status: str = Field(max_length=16, index=True)
    active: bool = Field(default=True)
    pair_key: str = Field(max_length=200, description="sorted member organisation ids")
    version: int = Field(default=1)
    region: str | None = Field(default=None, max_length=5, index=True)
    owner: str | None = Field(default=None, max_length=100, index=True)
    due_date: date | None = Field(default=None, index=True)
    source: str = Field(max_length=16)
    match_run_id: int | None = Field(default=None, index=True)
    match_rank: int | None = None
    score: float | None = None
    components: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    decline_reason: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class OpportunityMember(SQLModel, table=True):
    """An organisation of an opportunity, with its name as it was when added."""

    __tablename__ = "opportunity_member"
    __table_args__ = (UniqueConstraint("opportunity_id", "organization_id"),)

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    organization_id: int = Field(index=True)
    profile_id: int | None = None
    name: str = Field(max_length=300)
    kind: str = Field(max_length=16)
    region: str | None = Field(default=None, max_length=5)
    country: str = Field(max_length=2)


class OpportunityEvent(SQLModel, table=True):
    """Append-only history: every change, note and reassignment (never updated)."""

    __tablename__ = "opportunity_event"

    id: int | None = Field(default=None, primary_key=True)
    opportunity_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("opportunity.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    at: datetime = _timestamp()
    actor: str = Field(max_length=100)
    kind: str = Field(max_length=16, description="created, status, owner, due_date, note")
    from_value: str | None = Field(default=None, max_length=100)
    to_value: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, sa_type=Text)


class AllianceRun(SQLModel, table=True):
    """One alliance request and the candidate groups it returned (immutable)."""

    __tablename__ = "alliance_run"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _timestamp()
    request: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    model_id: str = Field(max_length=500)
    candidates: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    created_by_key_id: int | None = Field(default=None, index=True)


class ApiKey(SQLModel, table=True):
    """An API key: only its SHA-256 digest is stored, never the key."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=32, unique=True, description="public part, for lookup")
    digest: str = Field(max_length=64, description="SHA-256 of the whole key, hex")
    name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    regions: list[str] = _json_list()
    allowed_origins: list[str] = _json_list()
    rate_limit_per_minute: int | None = None
    bootstrap: bool = Field(default=False, description="made from the bootstrap setting")
    created_at: datetime = _timestamp()
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Who changed what and when: field names only, never values (append-only)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    key_id: int | None = Field(default=None, index=True)
    key_name: str = Field(max_length=100)
    role: str = Field(max_length=16)
    action: str = Field(max_length=16, index=True)
    object_type: str = Field(max_length=32, index=True)
    object_id: int | None = Field(default=None, index=True)
    fields: list[str] = _json_list()


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a POST with an ``Idempotency-Key``, replayed on retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "idempotency_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=40, description="whose key: api key id, or local")
    idempotency_key: str = Field(max_length=255)
    fingerprint: str = Field(max_length=64, description="SHA-256 of method, path and body")
    status_code: int | None = Field(default=None, description="None while in progress")
    headers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    body: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class Job(SQLModel, table=True):
    """A background job (a bulk import) with its progress and per-row errors."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)
    status: str = Field(default="queued", max_length=16, index=True)
    format: str | None = Field(default=None, max_length=8)
    filename: str | None = Field(default=None, max_length=255)
    total: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = _json_list()
    message: str | None = Field(default=None, max_length=500, description="why it failed")
    cancel_requested: bool = Field(default=False)
    created_by_key_id: int | None = Field(default=None, index=True)
    created_at: datetime = _timestamp()
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobFile(SQLModel, table=True):
    """The uploaded file of a job, kept until the job ends."""

    __tablename__ = "job_file"

    job_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("job.id", ondelete="CASCADE"), primary_key=True, nullable=False
        )
    )
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Webhook(SQLModel, table=True):
    """A partner's receiver of events, signed with its own secret."""

    __tablename__ = "webhook"

    id: int | None = Field(default=None, primary_key=True)
    key_id: int | None = Field(default=None, index=True, description="the key that registered it")
    url: str = Field(max_length=2048)
    events: list[str] = _json_list()
    secret: str = Field(max_length=64, description="HMAC-SHA256 signing secret")
    active: bool = Field(default=True)
    created_at: datetime = _timestamp()


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: sent, retried with backoff for 24 h, logged."""

    __tablename__ = "webhook_delivery"

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("webhook.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    event: str = Field(max_length=40)
    object_type: str = Field(max_length=32)
    object_id: int
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = _timestamp()
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
