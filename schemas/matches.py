"""Match requests and stored match runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from matching.scoring import DEFAULT_MIN_SCORE
from schemas.common import Country, Id, Region, StrictModel
from schemas.fields import FieldId
from schemas.limits import (
    DEFAULT_MATCH_LIMIT,
    MAX_EXCLUDED_ORGANIZATIONS,
    MAX_FILTER_VALUES,
    MAX_MATCH_LIMIT,
    MAX_TEXT_CHARS,
)
from schemas.organizations import OrganizationKind

QueryText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS)
]


class MatchRequest(StrictModel):
    """Find complementary partners for a stored profile or for free text.

    Free text is read as a need. ``target`` defaults to the other kind of the
    source profile's organisation, and to ``research`` for free text.
    """

    profile_id: Id | None = None
    text: QueryText | None = None
    target: OrganizationKind | None = None
    limit: int = Field(default=DEFAULT_MATCH_LIMIT, ge=1, le=MAX_MATCH_LIMIT)
    regions: list[Region] | None = Field(default=None, max_length=MAX_FILTER_VALUES)
    countries: list[Country] | None = Field(default=None, max_length=MAX_FILTER_VALUES)
    fields: list[FieldId] | None = Field(
        default=None,
        max_length=MAX_FILTER_VALUES,
        description="Only partners whose offers mention a taxonomy concept of one of these "
        "fields (see GET /api/v1/fields)",
    )
    exclude_organization_ids: list[Id] = Field(
        default_factory=list, max_length=MAX_EXCLUDED_ORGANIZATIONS
    )
    min_score: float | None = Field(
        default=None,
        ge=0,
        le=2,
        description="Results scoring below this are not shown. Default: the calibrated "
        f"threshold ({DEFAULT_MIN_SCORE}), below which a result is more likely noise than a "
        "partner; 0 shows every result.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> MatchRequest:
        if (self.profile_id is None) == (self.text is None):
            raise ValueError("give exactly one of 'profile_id' and 'text'")
        return self


class OrganizationSummary(BaseModel):
    """The matched organisation as it was when the run was made."""

    id: int
    name: str
    kind: OrganizationKind
    region: str | None
    country: str


class Evidence(BaseModel):
    """The closest pair of sentences between a needs text and an offers text."""

    need_sentence: str
    offer_sentence: str
    similarity: float


class DomainEvidence(BaseModel):
    """The closest pair of sentences between two offers texts."""

    source_sentence: str
    target_sentence: str
    similarity: float


class ConceptRef(BaseModel):
    """A taxonomy concept, with its English and Czech labels."""

    id: str = Field(examples=["machine-vision"])
    en: str = Field(examples=["machine vision"])
    cs: str = Field(examples=["strojové vidění"])


class Explanation(BaseModel):
    """Why a result matched."""

    summary: str = Field(description="One paragraph a person can read")
    need_offer: Evidence | None = Field(description="Source need ↔ target offer")
    offer_need: Evidence | None = Field(description="Reciprocal: target need ↔ source offer")
    domain: DomainEvidence | None = Field(
        default=None, description="Source offer ↔ target offer, for a source without needs"
    )
    shared_keywords: list[str]
    shared_terms: list[str] = Field(
        default_factory=list,
        description="Words of the source's text that weigh most in the target's offers (BM25)",
    )
    shared_concepts: list[ConceptRef] = Field(
        default_factory=list,
        description="Taxonomy concepts of the source's needs (or offers) that the target "
        "offers too",
    )


class MatchResult(BaseModel):
    """One ranked partner."""

    rank: int
    profile_id: int
    organization: OrganizationSummary
    score: float
    components: dict[str, float | None] = Field(
        description="Raw components: need_offer, offer_need, domain, lexical, domain_lexical, "
        "keywords, "
        "concepts, proximity "
        "(null = does not apply)"
    )
    explanation: Explanation


class MatchRunRead(BaseModel):
    """A stored match run: what was asked and exactly what was returned."""

    run_id: int
    created_at: datetime
    profile_id: int | None
    text: str | None
    target: OrganizationKind
    limit: int
    regions: list[str] | None
    countries: list[str] | None
    fields: list[str] | None = Field(description="The fields the run was limited to")
    exclude_organization_ids: list[int]
    min_score: float = Field(description="Results scoring below this were not shown")
    model_id: str
    index_version: int
    results: list[MatchResult]
    note: str | None = Field(
        default=None,
        description="Set when no result reached min_score: the index holds no partner that "
        "matches well enough (rather than a list of weak guesses)",
    )


class MatchRunSummary(BaseModel):
    """A run in a list (without its results)."""

    run_id: int
    created_at: datetime
    profile_id: int | None
    text: str | None
    target: OrganizationKind
    model_id: str
    result_count: int
