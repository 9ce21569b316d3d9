"""The labelled Czech/English set in bench/data/czen (see its README)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.quality.model import COMPANY_TO_RESEARCH, EvalSet, Org, Query

DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "czen"


def _half(need_id: str) -> str:
    """Odd-numbered needs tune ("dev"), even-numbered ones check ("test")."""
    return "dev" if int(need_id.lstrip("n")) % 2 else "test"


def load(data_dir: Path = DATA_DIR) -> EvalSet:
    """Research organisations (English or Czech) and company needs as free text."""
    with (data_dir / "research.jsonl").open(encoding="utf-8") as handle:
        research = [json.loads(line) for line in handle if line.strip()]
    with (data_dir / "needs.jsonl").open(encoding="utf-8") as handle:
        needs = [json.loads(line) for line in handle if line.strip()]
    orgs = [
        Org(
            key=row["id"],
            kind="research",
            name=row["name"],
            country="CZ",
            region=row.get("region"),
            offers=row["offers"],
            needs=row.get("needs", ""),
            keywords=tuple(row.get("keywords", ())),
            language=row["lang"],
        )
        for row in research
    ]
    queries = [
        Query(
            key=row["id"],
            direction=COMPANY_TO_RESEARCH,
            language=row["lang"],
            positives={
                "relevant": frozenset(row["relevant"]),
                f"relevant {_half(row['id'])}": frozenset(row["relevant"]),
            },
            text=row["text"],
        )
        for row in needs
    ]
    return EvalSet("czen", orgs, queries, calibrate_on="relevant")  # halves: "relevant dev|test"
