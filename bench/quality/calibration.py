"""Calibrating ``min_score``: does a query without a true partner say so?

For every query of a set labelled exhaustively, the score of its first true
partner (partner present) is compared with the best score left when its true
partners are removed from the candidates (partner absent). A threshold ``t``
shows the partner when present (score ≥ t) and stays silent when absent
(best remaining score < t); the balanced rate is the mean of the two. The
best threshold is chosen on the queries of the ``dev`` subset and checked on
the ``test`` subset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.quality.model import EvalSet
from bench.quality.service_path import ServicePath

THRESHOLDS = [round(0.01 * step, 2) for step in range(0, 101)]
Scores = list[tuple[float, float]]  # (present, absent) per query


def _rates(pairs: Sequence[tuple[float, float]], threshold: float) -> dict[str, float]:
    shown = sum(present >= threshold for present, _ in pairs) / len(pairs)
    silent = sum(absent < threshold for _, absent in pairs) / len(pairs)
    return {"present_shown": shown, "absent_silent": silent, "balanced": (shown + silent) / 2}


def calibrate(
    evalset: EvalSet, service: ServicePath, subset: str, shipped: float
) -> dict[str, Any]:
    """The best threshold on the dev half; rates of it and of the shipped one per half."""
    halves: dict[str, Scores] = {"dev": [], "test": []}
    for query in evalset.queries:
        partners = query.positives.get(subset)
        if not partners:
            continue
        ranked = service.scored(query)
        present = next((score for key, score in ranked if key in partners), 0.0)
        remaining = service.scored(query, limit=1, without=partners)
        pair = (present, remaining[0][1] if remaining else 0.0)
        for half, scores in halves.items():
            if query.positives.get(f"{subset} {half}"):
                scores.append(pair)
    every = halves["dev"] + halves["test"]
    best = max(THRESHOLDS, key=lambda t: (_rates(halves["dev"], t)["balanced"], -t))
    return {
        "queries": {half: len(scores) for half, scores in halves.items()},
        "thresholds": {"shipped": shipped, "best on dev": best},
        "rates": {
            f"{label} | {half}": _rates(scores, threshold)
            for label, threshold in (("shipped", shipped), ("best on dev", best))
            for half, scores in (("dev", halves["dev"]), ("test", halves["test"]), ("all", every))
        },
    }


def print_report(report: dict[str, Any]) -> None:
    """Print the calibration in the run's output."""
    counts = report["queries"]
    print(
        f"\nmin_score calibration (true partner present / removed; "
        f"{counts['dev']} dev + {counts['test']} test queries)"
    )
    for key, rates in report["rates"].items():
        label = key.split(" | ")[0]
        print(
            f"  {key:<20} threshold {report['thresholds'][label]:.2f}: partner shown "
            f"{rates['present_shown']:.3f}, silent without partner {rates['absent_silent']:.3f}, "
            f"balanced {rates['balanced']:.3f}"
        )
