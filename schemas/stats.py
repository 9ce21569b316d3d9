"""Region figures: what the work achieved in a NUTS 3 region."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

PipelineStage = Literal["new", "contacted", "meeting", "agreement", "won"]


class OrganizationCounts(BaseModel):
    """Organisations registered in the region, by kind."""

    company: int
    research: int


class StatusCounts(BaseModel):
    """Opportunities by their current status (every status, zeros included)."""

    new: int
    contacted: int
    meeting: int
    agreement: int
    won: int
    declined: int
    archived: int


class OpportunityCounts(BaseModel):
    """Opportunities of the region (``opportunity.region``)."""

    total: int
    by_status: StatusCounts


class StageConversion(BaseModel):
    """How many opportunities that reached one stage went on to reach the next."""

    from_: PipelineStage = Field(serialization_alias="from")
    to: PipelineStage
    reached_from: int = Field(description="Opportunities that reached the first stage")
    reached_to: int = Field(description="Opportunities that reached the next stage")
    rate: float | None = Field(
        description="reached_to / reached_from, rounded to 4 decimals; null when none reached "
        "the first stage"
    )


class MedianDays(BaseModel):
    """Median days from opening to a stage, over the opportunities that reached it."""

    new_to_contacted: float | None = Field(description="Rounded to 2 decimals; null when none")
    new_to_agreement: float | None = Field(description="Rounded to 2 decimals; null when none")


class ScoreBand(BaseModel):
    """Outcomes of the opportunities opened from matches scoring within a band."""

    band: str = Field(
        description="'0.0-0.1' … '0.9-1.0' (lower bound inclusive; scores of 1 or more fall in "
        "the last band), or 'none' for opportunities not opened from a match"
    )
    opened: int
    won: int
    declined: int
    active: int = Field(description="Still in new, contacted, meeting or agreement")
    win_rate: float | None = Field(
        description="won / (won + declined), rounded to 4 decimals; null when none is decided"
    )


class RegionStats(BaseModel):
    """The figures of one NUTS 3 region."""

    region: str = Field(description="NUTS 3 code")
    organizations: OrganizationCounts
    profiles: int = Field(description="Profiles of the region's organisations")
    match_runs: int = Field(
        description="Runs asked for a profile of an organisation now in the region (runs for "
        "free text or for a deleted profile belong to no region)"
    )
    opportunities: OpportunityCounts
    conversion: list[StageConversion] = Field(
        description="Each step of new → contacted → meeting → agreement → won"
    )
    median_days: MedianDays
    score_bands: list[ScoreBand] = Field(description="Only bands with opportunities, in order")


class RegionStatsList(BaseModel):
    """Every region with at least one organisation or opportunity, by code."""

    items: list[RegionStats]
