"""Export alliance candidates: requests and stored runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from schemas.common import Country, Id, Region, StrictModel
from schemas.limits import MAX_ALLIANCE_CANDIDATES, MAX_ALLIANCE_SIZE, MAX_FILTER_VALUES


class AllianceRequest(StrictModel):
    """Find groups of firms that together serve a market."""

    regions: list[Region] | None = Field(
        default=None, max_length=MAX_FILTER_VALUES, description="Firms of these NUTS 3 regions"
    )
    market: Country | None = Field(
        default=None, description="Only firms targeting this market (ISO 3166-1 alpha-2)"
    )
    seed_profile_id: Id | None = Field(default=None, description="Build around this firm")
    size_min: int = Field(default=3, ge=2, le=MAX_ALLIANCE_SIZE)
    size_max: int = Field(default=5, ge=2, le=MAX_ALLIANCE_SIZE)
    include_research: bool = Field(
        default=False, description="Add the best research partner for the group's joint needs"
    )
    limit: int = Field(default=5, ge=1, le=MAX_ALLIANCE_CANDIDATES)
    max_shared: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Two candidates share at most this share of their members",
    )

    @model_validator(mode="after")
    def _sizes(self) -> AllianceRequest:
        if self.size_min > self.size_max:
            raise ValueError("'size_min' must not exceed 'size_max'")
        return self


class MemberOrganization(BaseModel):
    """The organisation of a member as it was when the run was made."""

    id: int
    name: str
    region: str | None


class AllianceMember(BaseModel):
    """A firm of a candidate group and what it brings, in its own profile's words."""

    organization: MemberOrganization
    profile_id: int
    brings: str


class AllianceCandidate(BaseModel):
    """A candidate group."""

    members: list[AllianceMember]
    market: str | None
    score: float
    components: dict[str, float] = Field(
        description="complementarity (members' needs met by the others' offers), cohesion "
        "(same broad field), no_competition (1 when no two members' offers are alike, falling "
        "to 0 as they near the same thing), market (share of members targeting it), "
        "proximity (share of member pairs in one region); firms whose offers are the same "
        "thing, firms of the same main CZ-NACE class and two profiles of one organisation "
        "are never in one group"
    )
    research: AllianceMember | None = Field(
        default=None, description="With include_research: the best research partner"
    )


class AllianceRunRead(BaseModel):
    """A stored alliance run: what was asked and exactly what was returned."""

    run_id: int
    created_at: datetime
    request: dict[str, Any]
    model_id: str
    candidates: list[AllianceCandidate]
