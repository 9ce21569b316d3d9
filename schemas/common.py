"""Types shared by several schemas: constrained strings, codes, pages, problems."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from schemas import codes
from schemas.limits import MAX_ID, MAX_KEYWORD_CHARS, MAX_TEXT_CHARS

T = TypeVar("T")

Country = Annotated[str, AfterValidator(codes.normalize_country)]
Region = Annotated[str, AfterValidator(codes.normalize_region)]
NaceCode = Annotated[str, AfterValidator(codes.normalize_nace)]
Ico = Annotated[str, AfterValidator(codes.normalize_ico)]
Ror = Annotated[str, AfterValidator(codes.normalize_ror)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT_CHARS)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Keyword = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_KEYWORD_CHARS)
]


class StrictModel(BaseModel):
    """Request bodies reject unknown fields, so a typo is an error, not silence."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next."""

    items: list[T]
    next_cursor: str | None = Field(description="Opaque cursor of the next page; null at the end")


class FieldError(BaseModel):
    """One invalid input: a body field by JSON Pointer, or a parameter by name."""

    model_config = ConfigDict(populate_by_name=True)

    pointer: str | None = Field(
        default=None, description="JSON Pointer to a body field, e.g. #/profiles/0/offers"
    )
    parameter: str | None = Field(default=None, description="Name of a query/path parameter")
    in_: str | None = Field(default=None, alias="in", description="query, path or header")
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the given error statuses."""
    return {status: {"model": Problem} for status in statuses}
