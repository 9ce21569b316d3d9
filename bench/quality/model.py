"""The evaluation's own vocabulary: organisations, queries with known partners."""

from __future__ import annotations

from dataclasses import dataclass, field

COMPANY_TO_RESEARCH = "company→research"
RESEARCH_TO_COMPANY = "research→company"


@dataclass(frozen=True)
class Org:
    """An organisation with one profile."""

    key: str
    kind: str
    name: str
    country: str
    offers: str
    needs: str = ""
    region: str | None = None
    keywords: tuple[str, ...] = ()
    language: str = "en"

    @property
    def whole_text(self) -> str:
        """Everything it says about itself, for whole-text baselines."""
        return f"{self.offers}\n{self.needs}".strip()


@dataclass(frozen=True)
class Query:
    """One ranking to evaluate: a stored organisation's profile or a free-text need."""

    key: str
    direction: str
    language: str
    positives: dict[str, frozenset[str]]
    text: str | None = None  # free text; None: the profile of organisation ``key``

    @property
    def target_kind(self) -> str:
        """Which kind of organisation is ranked."""
        return "research" if self.direction == COMPANY_TO_RESEARCH else "company"


@dataclass
class EvalSet:
    """Organisations to index and queries with their relevant targets per subset."""

    name: str
    orgs: list[Org]
    queries: list[Query] = field(default_factory=list)
    # subset whose labels are exhaustive, so removing them leaves no true partner
    calibrate_on: str | None = None

    def by_key(self) -> dict[str, Org]:
        """Organisations by key."""
        return {org.key: org for org in self.orgs}
