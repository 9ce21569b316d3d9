"""What the export-advisor widget sends and gets: public fields only."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from schemas.common import Ico, Id, Region, StrictModel
from schemas.fields import FieldId
from schemas.limits import MAX_NAME_CHARS, MAX_PERSON_CHARS
from schemas.organizations import Email, OrganizationKind

MAX_WIDGET_TEXT_CHARS = 2_000
MAX_WIDGET_RESULTS = 10
WidgetText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_WIDGET_TEXT_CHARS),
]


class WidgetSearch(StrictModel):
    """A visitor's need, in Czech or English."""

    text: WidgetText = Field(description="What the firm needs")
    region: Region | None = Field(default=None, description="Only partners of this region")
    field: FieldId | None = Field(
        default=None,
        description="Only partners offering something in this field (see GET /api/v1/fields)",
    )
    limit: int = Field(default=5, ge=1, le=MAX_WIDGET_RESULTS)


class WidgetOrganization(BaseModel):
    """The public facts of an organisation."""

    name: str
    kind: OrganizationKind
    region: str | None
    country: str


class WidgetResult(BaseModel):
    """One partner: who, why in one line, how well it fits."""

    profile_id: int
    organization: WidgetOrganization
    title: str | None
    why: str = Field(
        description="One line (at most 160 characters): the partner's own sentence that best "
        "answers the need"
    )
    score: float


class WidgetSearchResults(BaseModel):
    """The partners found; ``note`` says so when none fits well enough."""

    run_id: int
    results: list[WidgetResult]
    note: str | None


class WidgetLead(StrictModel):
    """A visitor asks the region's export advisor to introduce it to a partner."""

    profile_id: Id = Field(description="The partner's profile, from the search results")
    company_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
    ]
    ico: Ico | None = None
    email: Email
    contact_name: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PERSON_CHARS),
        ]
        | None
    ) = None
    need: WidgetText = Field(description="What the firm needs (as searched)")
    consent: Literal[True] = Field(description="Consent to be contacted; required")
    region: Region | None = Field(
        default=None, description="The region whose advisors get the lead; default the key's"
    )


class WidgetLeadAccepted(BaseModel):
    """The lead is with the region's advisors."""

    lead_id: int = Field(description="The opportunity id")
    region: str
    status: Literal["new"]
