"""Settings, read from the environment (prefix ``PARTNERMATCH_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings; every field can be set as ``PARTNERMATCH_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PARTNERMATCH_", extra="ignore")

    data_dir: Path = Field(
        default=Path("data"), description="SQLite file and index snapshot live here"
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; "
        "default: SQLite file partnermatch.db in data_dir",
    )
    embedding_model: str | None = Field(
        default=None,
        description="sentence-transformers model name or path; "
        "default: the packaged all-MiniLM-L6-v2 (offline)",
    )
    czech_glossary: Literal["auto", "on", "off"] = Field(
        default="auto",
        description="Render Czech text in English through the glossary before embedding: "
        "auto = on for the packaged English model, off for any other",
    )
    snapshot_interval_seconds: float = Field(
        default=30.0, gt=0, description="How often a changed index is saved"
    )
    bootstrap_admin_key: SecretStr | None = Field(
        default=None,
        description="An admin key (at least 32 characters) made usable at start; change it "
        "and restart to rotate it (the previous one is revoked)",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=1, description="Requests a minute per API key (unless set on the key)"
    )
    widget_rate_limit_per_minute: int = Field(
        default=60, ge=1, description="Requests a minute per widget key (unless set on the key)"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where request counts live: memory:// (per process) or a shared store "
        "such as redis://host:6379 (all workers together; needs the redis package)",
    )
    max_import_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1024, description="Largest file POST /api/v1/imports takes"
    )
    webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, description="How long one webhook delivery may take"
    )
    webhook_retry_seconds: float = Field(
        default=30.0, gt=0, description="First retry of a failed delivery; doubles each time"
    )
    webhook_give_up_hours: float = Field(
        default=24.0, gt=0, description="Deliveries still failing this long after the event stop"
    )
    webhook_allow_private_urls: bool = Field(
        default=False,
        description="Allow webhook URLs on loopback or private addresses (tests, one-machine "
        "setups); off, such URLs are refused",
    )
    widget_per_address_per_minute: int = Field(
        default=20, ge=1, description="Widget searches and leads a minute per visitor address"
    )
    failed_auth_per_minute: int = Field(
        default=30, ge=1, description="Requests with a wrong key a minute per client address"
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the SQLite file under ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'partnermatch.db').resolve()}"

    @property
    def use_czech_glossary(self) -> bool | None:
        """The embedder's ``czech_glossary`` argument (None: decided by the model)."""
        return {"auto": None, "on": True, "off": False}[self.czech_glossary]

    @property
    def snapshot_path(self) -> Path:
        """Where the FAISS index snapshot is written."""
        return self.data_dir / "index.faiss"
