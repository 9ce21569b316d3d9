"""Region figures: counts by SQL aggregates, medians and score bands in Python.

Every query is grouped by region, so one function serves the list (all regions)
and a single region (``only``), on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, get_args

from sqlalchemy import distinct, func
from sqlmodel import Session, col, select

from schemas.opportunities import ACTIVE_STATUSES, OpportunityStatus
from schemas.stats import (
    MedianDays,
    OpportunityCounts,
    OrganizationCounts,
    PipelineStage,
    RegionStats,
    ScoreBand,
    StageConversion,
    StatusCounts,
)
from service.feedback import NO_SCORE, score_band
from service.models import MatchRun, Opportunity, OpportunityEvent, Organization, Profile

STATUSES: tuple[str, ...] = get_args(OpportunityStatus)
# The pipeline, one stage at a time (schemas.opportunities.NEXT_STAGE).
PIPELINE: tuple[PipelineStage, ...] = ("new", "contacted", "meeting", "agreement", "won")
TIMED_STAGES = ("contacted", "agreement")  # median days from opening to these
SECONDS_PER_DAY = 86_400


@dataclass
class _Figures:
    """What the queries found for one region, before shaping."""

    kinds: Counter[str] = field(default_factory=Counter)
    profiles: int = 0
    match_runs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    reached: Counter[str] = field(default_factory=Counter)
    days: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    bands: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


def region_stats(session: Session, code: str) -> RegionStats:
    """The figures of one region (zeros when nothing is recorded there)."""
    _consistent_reads(session)
    return _shape(code, _collect(session, only=code).get(code, _Figures()))


def all_region_stats(session: Session) -> list[RegionStats]:
    """Every region with an organisation or an opportunity, by code."""
    _consistent_reads(session)
    figures = _collect(session, only=None)
    codes = sorted(code for code in figures if code is not None)
    return [_shape(code, figures[code]) for code in codes]


def _consistent_reads(session: Session) -> None:
    """On PostgreSQL, take every figure from one snapshot, so that they agree with each
    other while others write (on SQLite each query reads the last commit)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _collect(session: Session, *, only: str | None) -> dict[str | None, _Figures]:
    """Run every query; regions appear only through an organisation or an opportunity."""
    figures: dict[str | None, _Figures] = defaultdict(_Figures)
    _count_organizations(session, only, figures)
    _count_opportunities(session, only, figures)
    figures.pop(None, None)  # never there (the queries skip null regions); for the types
    return figures


def _count_organizations(
    session: Session, only: str | None, figures: dict[str | None, _Figures]
) -> None:
    region = col(Organization.region)
    where: list[Any] = [region.is_not(None)] if only is None else [region == only]
    kind = col(Organization.kind)
    for code, kind_value, count in session.exec(
        select(region, kind, func.count()).where(*where).group_by(region, kind)
    ):
        figures[code].kinds[kind_value] = count
    for code, count in session.exec(
        select(region, func.count(col(Profile.id)))
        .join(Organization, col(Profile.organization_id) == col(Organization.id))
        .where(*where)
        .group_by(region)
    ):
        figures[code].profiles = count
    # A run belongs to the region its source profile's organisation is in now; runs for
    # free text or for a since deleted profile belong to none.
    for code, count in session.exec(
        select(region, func.count(col(MatchRun.id)))
        .join(Profile, col(MatchRun.profile_id) == col(Profile.id))
        .join(Organization, col(Profile.organization_id) == col(Organization.id))
        .where(*where)
        .group_by(region)
    ):
        figures[code].match_runs = count


def _count_opportunities(
    session: Session, only: str | None, figures: dict[str | None, _Figures]
) -> None:
    region = col(Opportunity.region)
    where: list[Any] = [region.is_not(None)] if only is None else [region == only]
    status = col(Opportunity.status)
    for code, status_value, count in session.exec(
        select(region, status, func.count()).where(*where).group_by(region, status)
    ):
        figures[code].statuses[status_value] = count
    # Reached a stage: opened at it (the "created" event) or moved to it (a "status" event).
    stage = col(OpportunityEvent.to_value)
    joined = col(OpportunityEvent.opportunity_id) == col(Opportunity.id)
    for code, stage_value, count in session.exec(
        select(region, stage, func.count(distinct(col(Opportunity.id))))
        .join(OpportunityEvent, joined)
        .where(*where, col(OpportunityEvent.kind).in_(("created", "status")), stage.in_(PIPELINE))
        .group_by(region, stage)
    ):
        if stage_value is not None:
            figures[code].reached[stage_value] = count
    # Days from opening to the (first) move to each timed stage, per opportunity.
    created_at = col(Opportunity.created_at)
    for code, opened, stage_value, moved in session.exec(
        select(region, created_at, stage, func.min(col(OpportunityEvent.at)))
        .join(OpportunityEvent, joined)
        .where(*where, col(OpportunityEvent.kind) == "status", stage.in_(TIMED_STAGES))
        .group_by(col(Opportunity.id), region, created_at, stage)
    ):
        if stage_value is not None:
            days = (moved - opened).total_seconds() / SECONDS_PER_DAY
            figures[code].days[stage_value].append(days)
    score = col(Opportunity.score)
    for code, score_value, status_value, count in session.exec(
        select(region, score, status, func.count()).where(*where).group_by(region, score, status)
    ):
        figures[code].bands[score_band(score_value)][status_value] += count


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _median(values: list[float]) -> float | None:
    return None if not values else round(statistics.median(values), 2)


def _shape(code: str, found: _Figures) -> RegionStats:
    """The API view of one region's figures."""
    conversion = [
        StageConversion(
            from_=start,
            to=end,
            reached_from=found.reached[start],
            reached_to=found.reached[end],
            rate=_ratio(found.reached[end], found.reached[start]),
        )
        for start, end in pairwise(PIPELINE)
    ]
    bands = []
    for band in sorted(found.bands, key=lambda name: (name == NO_SCORE, name)):
        outcomes = found.bands[band]
        won, declined = outcomes["won"], outcomes["declined"]
        bands.append(
            ScoreBand(
                band=band,
                opened=sum(outcomes.values()),
                won=won,
                declined=declined,
                active=sum(outcomes[status] for status in ACTIVE_STATUSES),
                win_rate=_ratio(won, won + declined),
            )
        )
    return RegionStats(
        region=code,
        organizations=OrganizationCounts(
            company=found.kinds["company"], research=found.kinds["research"]
        ),
        profiles=found.profiles,
        match_runs=found.match_runs,
        opportunities=OpportunityCounts(
            total=sum(found.statuses.values()),
            by_status=StatusCounts(**{status: found.statuses[status] for status in STATUSES}),
        ),
        conversion=conversion,
        median_days=MedianDays(
            new_to_contacted=_median(found.days["contacted"]),
            new_to_agreement=_median(found.days["agreement"]),
        ),
        score_bands=bands,
    )
