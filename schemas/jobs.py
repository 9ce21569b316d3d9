"""Background jobs (bulk imports) as the API shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
ImportFormat = Literal["csv", "jsonl", "een"]


class RowErrorRead(BaseModel):
    """A problem of one row: its number, the column (CSV) or JSON Pointer, the message."""

    row: int = Field(
        description="CSV: the spreadsheet row (header = 1); JSON Lines: the line; "
        "EEN: the profile's position, from 1"
    )
    field: str | None
    message: str


class JobRead(BaseModel):
    """A job and its progress."""

    id: int
    kind: str
    status: JobStatus
    format: ImportFormat | None
    filename: str | None
    total: int = Field(description="Rows in the file")
    done: int = Field(description="Rows handled so far")
    created: int
    updated: int
    unchanged: int
    failed: int = Field(description="Rows not stored; see errors")
    errors: list[RowErrorRead] = Field(description="At most 1,000; `failed` counts them all")
    message: str | None = Field(description="Why the job failed as a whole")
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ImportAccepted(BaseModel):
    """An import queued: follow it at ``Location``."""

    job_id: int
    status: JobStatus
    format: ImportFormat
