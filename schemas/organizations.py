"""Organisations (companies, research organisations) and their profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, model_validator

from schemas import codes
from schemas.common import Country, Ico, Keyword, LongText, NaceCode, Region, Ror, StrictModel
from schemas.limits import (
    MAX_CONTACTS,
    MAX_EMAIL_CHARS,
    MAX_KEYWORDS,
    MAX_MARKETS,
    MAX_NACE_CODES,
    MAX_NAME_CHARS,
    MAX_PERSON_CHARS,
    MAX_PHONE_CHARS,
    MAX_PROFILES_PER_ORGANIZATION,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
)

OrganizationKind = Literal["company", "research"]
SizeClass = Literal["micro", "small", "medium", "large"]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS)
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TITLE_CHARS)]
Website = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=MAX_URL_CHARS, pattern=r"^https?://[^\s/$.?#][^\s]*$"
    ),
]

PersonText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_PERSON_CHARS)
]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=MAX_EMAIL_CHARS,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    ),
]
Phone = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=MAX_PHONE_CHARS, pattern=r"^\+?[0-9][0-9 ()/.-]{4,}$"
    ),
]


class ContactFields(StrictModel):
    """A person to talk to (personal data: shown only to callers who may change the
    organisation, and erasable on request)."""

    name: PersonText
    position: PersonText | None = None
    email: Email | None = None
    phone: Phone | None = None


class ContactRead(ContactFields):
    """A stored contact."""

    id: int


class ProfileFields(StrictModel):
    """Fields a profile is written with."""

    title: Title | None = Field(default=None, description="Short label of the profile")
    offers: LongText = Field(
        default="", description="Capabilities, competences, services, equipment"
    )
    needs: LongText = Field(default="", description="What the organisation seeks from partners")
    keywords: list[Keyword] = Field(default_factory=list, max_length=MAX_KEYWORDS)
    markets: list[Country] = Field(
        default_factory=list, max_length=MAX_MARKETS, description="Target export markets (ISO)"
    )
    public: bool = Field(default=True, description="Visible to public search")


class ProfileCreate(ProfileFields):
    """A new profile: at least one of ``offers`` and ``needs`` must have text."""

    @model_validator(mode="after")
    def _has_text(self) -> ProfileCreate:
        if not self.offers and not self.needs:
            raise ValueError("a profile needs text in 'offers' or 'needs' (or both)")
        return self


class ProfileUpdate(StrictModel):
    """Partial update of a profile; omitted fields stay as they are."""

    title: Title | None = None
    offers: LongText | None = None
    needs: LongText | None = None
    keywords: list[Keyword] | None = Field(default=None, max_length=MAX_KEYWORDS)
    markets: list[Country] | None = Field(default=None, max_length=MAX_MARKETS)
    public: bool | None = None


class ProfileRead(BaseModel):
    """A stored profile."""

    id: int
    organization_id: int
    title: str | None
    offers: str
    needs: str
    keywords: list[str]
    markets: list[str]
    public: bool
    source: str = Field(description="manual, import or een")
    external_ref: str | None = Field(description="Reference in the source system, e.g. EEN")
    valid_until: datetime | None = Field(description="Not matched after this (expired EEN)")
    details: dict[str, Any] | None = Field(
        description="Fields of the source format as given (EEN profiles); outside the "
        "importing key's reach the owner shows as country, type and size only"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class OrganizationFields(StrictModel):
    """Fields an organisation is written with (besides its kind and profiles)."""

    name: Name
    ico: Ico | None = Field(default=None, description="Czech company id, 8 digits, check digit")
    ror: Ror | None = Field(default=None, description="ROR id, e.g. https://ror.org/03kqpb082")
    country: Country = Field(default="CZ", description="ISO 3166-1 alpha-2")
    region: Region | None = Field(default=None, description="NUTS 3 code, e.g. CZ080")
    nace: list[NaceCode] = Field(default_factory=list, max_length=MAX_NACE_CODES)
    size: SizeClass | None = None
    website: Website | None = None
    contacts: list[ContactFields] = Field(default_factory=list, max_length=MAX_CONTACTS)

    @model_validator(mode="after")
    def _region_in_country(self) -> OrganizationFields:
        if self.region is not None:
            codes.normalize_region(self.region, self.country)
        return self


class OrganizationCreate(OrganizationFields):
    """A new organisation with its profiles."""

    kind: OrganizationKind
    profiles: list[ProfileCreate] = Field(
        default_factory=list, max_length=MAX_PROFILES_PER_ORGANIZATION
    )


class OrganizationUpdate(StrictModel):
    """Partial update; omitted fields stay, ``null`` clears an optional field."""

    name: Name | None = None
    ico: Ico | None = None
    ror: Ror | None = None
    country: Country | None = None
    region: Region | None = None
    nace: list[NaceCode] | None = Field(default=None, max_length=MAX_NACE_CODES)
    size: SizeClass | None = None
    website: Website | None = None
    contacts: list[ContactFields] | None = Field(
        default=None, max_length=MAX_CONTACTS, description="Replaces the contacts when given"
    )


class OrganizationRead(BaseModel):
    """A stored organisation with its profiles."""

    id: int
    kind: OrganizationKind
    name: str
    ico: str | None
    ror: str | None
    country: str
    region: str | None
    nace: list[str]
    size: SizeClass | None
    website: str | None
    contacts: list[ContactRead] | None = Field(
        description="null when this caller may not see personal data (outside its regions)"
    )
    version: int
    created_at: datetime
    updated_at: datetime
    profiles: list[ProfileRead] = Field(
        description="Private profiles only for callers who may change the organisation"
    )
