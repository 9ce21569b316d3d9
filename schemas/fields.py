"""Broad fields of technology and application that matches can be limited to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from matching.taxonomy import field_ids

if TYPE_CHECKING:
    FieldId = str
else:
    # The ids of the shipped taxonomy's fields: an enum in the OpenAPI description,
    # and a 422 naming the allowed values for any other.
    FieldId = Literal[field_ids()]


class FieldLabel(BaseModel):
    """A field's name in English and Czech."""

    en: str = Field(examples=["Energy"])
    cs: str = Field(examples=["Energetika"])


class FieldRead(BaseModel):
    """One field: its id (as sent in ``fields`` of a match) and its labels."""

    id: FieldId
    label: FieldLabel


class FieldList(BaseModel):
    """Every field, in the taxonomy's order."""

    fields: list[FieldRead]
