"""Opportunities: leads advisors follow up through a pipeline."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from schemas.common import Id, LongText, Region, StrictModel
from schemas.limits import (
    MAX_ALLIANCE_CANDIDATES,
    MAX_MATCH_LIMIT,
    MAX_OPPORTUNITY_MEMBERS,
    MAX_OWNER_CHARS,
)
from schemas.organizations import OrganizationKind

OpportunityStatus = Literal[
    "new", "contacted", "meeting", "agreement", "won", "declined", "archived"
]
DeclineReason = Literal[
    "no_interest",
    "no_capacity",
    "not_a_fit",
    "no_funding",
    "unreachable",
    "partner_found_elsewhere",
    "other",
]
OpportunitySource = Literal["match", "manual", "widget", "alliance"]
Owner = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_OWNER_CHARS)
]

ACTIVE_STATUSES: tuple[str, ...] = ("new", "contacted", "meeting", "agreement")
# The pipeline, one stage at a time; declined and archived are reachable from any
# active stage; won, declined and archived are final.
NEXT_STAGE = {
    "new": "contacted",
    "contacted": "meeting",
    "meeting": "agreement",
    "agreement": "won",
}


def allowed_moves(status: str) -> list[str]:
    """The statuses an opportunity in ``status`` may move to."""
    if status not in ACTIVE_STATUSES:
        return []
    return [NEXT_STAGE[status], "declined", "archived"]


class OpportunityCreate(StrictModel):
    """Open an opportunity from a match result, from an alliance candidate, or pair
    profiles by hand."""

    match_run_id: Id | None = Field(default=None, description="A stored match run …")
    rank: int | None = Field(default=None, ge=1, le=MAX_MATCH_LIMIT, description="… and its result")
    alliance_run_id: Id | None = Field(default=None, description="Or: a stored alliance run …")
    candidate: int | None = Field(
        default=None,
        ge=1,
        le=MAX_ALLIANCE_CANDIDATES,
        description="… and its candidate group (1 = first); members: the group and its "
        "research partner, if the run added one",
    )
    profile_ids: list[Id] | None = Field(
        default=None,
        min_length=2,
        max_length=MAX_OPPORTUNITY_MEMBERS,
        description="Or: profiles of the organisations to bring together (a hand-made pairing)",
    )
    region: Region | None = Field(
        default=None,
        description="NUTS 3 region the opportunity belongs to; default: the region of its first "
        "company, else of its first member with one",
    )
    owner: Owner | None = Field(default=None, description="The advisor who follows it up")
    due_date: date | None = None
    note: LongText | None = Field(default=None, description="First note, kept in the history")

    @model_validator(mode="after")
    def _one_source(self) -> OpportunityCreate:
        from_match = self.match_run_id is not None or self.rank is not None
        from_alliance = self.alliance_run_id is not None or self.candidate is not None
        if from_match + from_alliance + (self.profile_ids is not None) != 1:
            raise ValueError(
                "give one of: 'match_run_id' with 'rank', 'alliance_run_id' with 'candidate', "
                "or 'profile_ids'"
            )
        if from_match and (self.match_run_id is None or self.rank is None):
            raise ValueError("'match_run_id' and 'rank' go together")
        if from_alliance and (self.alliance_run_id is None or self.candidate is None):
            raise ValueError("'alliance_run_id' and 'candidate' go together")
        return self


class OpportunityUpdate(StrictModel):
    """Any of: a move in the pipeline, a new owner or due date, a note."""

    status: OpportunityStatus | None = None
    owner: Owner | None = Field(default=None, description="null clears it")
    due_date: date | None = Field(default=None, description="null clears it")
    decline_reason: DeclineReason | None = Field(
        default=None, description="Required when moving to declined (with free text in note)"
    )
    note: LongText | None = None

    @model_validator(mode="after")
    def _reason_with_decline(self) -> OpportunityUpdate:
        if (self.status == "declined") != (self.decline_reason is not None):
            raise ValueError("'decline_reason' is given exactly when 'status' is 'declined'")
        return self


class NoteCreate(StrictModel):
    """A note on an opportunity."""

    text: Annotated[LongText, StringConstraints(min_length=1)]


class OpportunityMemberRead(BaseModel):
    """A member organisation, as it was when the opportunity was opened."""

    organization_id: int
    profile_id: int | None
    name: str
    kind: OrganizationKind
    region: str | None
    country: str


class OpportunityRead(BaseModel):
    """An opportunity as stored."""

    id: int
    status: OpportunityStatus
    version: int
    members: list[OpportunityMemberRead]
    region: str | None
    owner: str | None
    due_date: date | None
    overdue: bool = Field(description="Active and past its due date")
    source: OpportunitySource
    match_run_id: int | None
    match_rank: int | None
    score: float | None = Field(description="Score of the match it was opened from")
    components: dict[str, Any] | None = Field(
        description="Score components of that match, kept with the outcome"
    )
    decline_reason: DeclineReason | None
    created_at: datetime
    updated_at: datetime


class OpportunityEventRead(BaseModel):
    """One entry of the append-only history."""

    id: int
    at: datetime
    actor: str
    kind: Literal["created", "status", "owner", "due_date", "note"]
    from_value: str | None = Field(serialization_alias="from")
    to_value: str | None = Field(serialization_alias="to")
    text: str | None
