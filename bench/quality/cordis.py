"""The real collaboration data: H2020 companies and their research partners.

See ``../shared/data/cordis-h2020/README.md``. Profiles are written only from
projects before 2019; partners are those of projects from 2019 on. Every
organisation's text is loaded as its ``offers`` (the data states no needs).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from bench.quality.model import COMPANY_TO_RESEARCH, RESEARCH_TO_COMPANY, EvalSet, Org, Query

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "cordis-h2020"
COUNTRY_FIXES = {"UK": "GB", "EL": "GR"}


def _read_jsonl(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load(split: str, data_dir: Path = DATA_DIR) -> EvalSet:
    """Research organisations, the companies of ``split`` (dev or test), and queries.

    Subsets of positives: ``new`` (partners never met before 2019: the headline)
    and ``all``.
    """
    if not (data_dir / "organisations.jsonl").exists():
        raise SystemExit(f"real-data set not found in {data_dir} (see its README)")
    assignment = json.loads((data_dir / "split.json").read_text())
    orgs = []
    for row in _read_jsonl(data_dir / "organisations.jsonl"):
        key = str(row["id"])
        if row["kind"] == "company" and assignment.get(key) != split:
            continue
        country = str(row["country"])
        orgs.append(
            Org(
                key=key,
                kind=str(row["kind"]),
                name=str(row["name"]) or key,
                country=COUNTRY_FIXES.get(country, country),
                offers=str(row["text"]),
            )
        )
    kept = {org.key for org in orgs}
    partners: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for pair in _read_jsonl(data_dir / "pairs.jsonl"):
        company, research = str(pair["company_id"]), str(pair["research_id"])
        if company not in kept or research not in kept:
            continue
        for direction, source, target in (
            (COMPANY_TO_RESEARCH, company, research),
            (RESEARCH_TO_COMPANY, research, company),
        ):
            partners[(direction, source)]["all"].add(target)
            if pair["new_pair"]:
                partners[(direction, source)]["new"].add(target)
    queries = [
        Query(
            key=source,
            direction=direction,
            language="en",
            positives={subset: frozenset(keys) for subset, keys in subsets.items()},
        )
        for (direction, source), subsets in sorted(partners.items())
    ]
    return EvalSet(f"cordis-{split}", orgs, queries)
