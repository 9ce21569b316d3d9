"""Closing the loop: how well did suggestions do once advisors followed them up?

An opportunity opened from a match keeps that match's rank, score and
components; its outcome (won, or declined) says whether the suggestion was a
good one. Precision is the share won among the decided ones, overall, by the
rank the suggestion had, and by score band; the mean of each score component
for won and for declined ones shows which signals carried the good matches.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from sqlmodel import Session, col, select

from service.models import Opportunity

RANK_BANDS: tuple[tuple[str, int, int], ...] = (("1", 1, 1), ("2-3", 2, 3), ("4-10", 4, 10))


@dataclass(frozen=True)
class Outcome:
    """A decided opportunity that came from a match."""

    rank: int
    score: float
    components: dict[str, float | None]
    won: bool


def outcomes(session: Session) -> list[Outcome]:
    """Opportunities opened from a match that were won or declined."""
    rows = session.exec(
        select(Opportunity)
        .where(
            Opportunity.source == "match",
            col(Opportunity.status).in_(("won", "declined")),
            col(Opportunity.match_rank).is_not(None),
            col(Opportunity.score).is_not(None),
        )
        .order_by(col(Opportunity.id))
    )
    return [
        Outcome(row.match_rank or 0, row.score or 0.0, row.components or {}, row.status == "won")
        for row in rows
    ]


def _share(found: Sequence[Outcome]) -> dict[str, Any]:
    won = sum(outcome.won for outcome in found)
    return {
        "decided": len(found),
        "won": won,
        "declined": len(found) - won,
        "precision": round(won / len(found), 4) if found else None,
    }


def rank_band(rank: int) -> str:
    """The rank band of a suggestion: 1, 2-3, 4-10 or 11+."""
    return next((label for label, low, high in RANK_BANDS if low <= rank <= high), "11+")


BANDS = 10  # score bands of width 0.1
NO_SCORE = "none"


def score_band(score: float | None) -> str:
    """The band of a match score: '0.0-0.1' … '0.9-1.0' (lower bound inclusive; 1 or more:
    the last), or 'none' for no score."""
    if score is None:
        return NO_SCORE
    # round() first so that e.g. 0.3 is not read as 2.9999… tenths
    step = min(max(math.floor(round(score * BANDS, 9)), 0), BANDS - 1)
    return f"{step / BANDS:.1f}-{(step + 1) / BANDS:.1f}"


def _grouped(found: Sequence[Outcome], band_of: Callable[[Outcome], str]) -> list[dict[str, Any]]:
    bands: dict[str, list[Outcome]] = {}
    for outcome in found:
        bands.setdefault(band_of(outcome), []).append(outcome)
    return [{"band": band, **_share(members)} for band, members in bands.items()]


def _component_means(found: Sequence[Outcome]) -> dict[str, dict[str, float | None]]:
    names = sorted({name for outcome in found for name in outcome.components})
    means: dict[str, dict[str, float | None]] = {}
    for name in names:
        means[name] = {}
        for label, won in (("won", True), ("declined", False)):
            values = [
                value
                for outcome in found
                if outcome.won is won and (value := outcome.components.get(name)) is not None
            ]
            means[name][label] = round(fmean(values), 4) if values else None
    return means


def report(found: Sequence[Outcome]) -> dict[str, Any]:
    """Precision overall, by rank and by score band, and component means."""
    by_rank = _grouped(sorted(found, key=lambda o: o.rank), lambda o: rank_band(o.rank))
    by_score = _grouped(sorted(found, key=lambda o: o.score), lambda o: score_band(o.score))
    return {
        **_share(found),
        "by_rank": by_rank,
        "by_score": by_score,
        "components": _component_means(found),
    }
