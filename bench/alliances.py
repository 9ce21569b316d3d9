"""``python -m bench.alliances``: are the value chains found, without competitors?

Data: ``bench/data/alliances/`` (see its README): value chains of real export
sectors, each hidden among competitors, look-alikes and unrelated firms. For
every chain, seeded by each of its members in turn with the chain's market:

- recovered: one of the top 5 candidates holds at least 3 of its members;
- competitor pairs: the share of candidates with two competitors in them.

Baseline in the same run: the seed and its nearest neighbours by offers (one
group of 4, and the groups of 3, 4 and 5 for the recovered share).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.quality import cache
from matching.alliances import COMPETITION_SIMILARITY, AllianceQuery, Firm, find_alliances
from matching.embedder import SentenceTransformerEmbedder

DATA_DIR = Path(__file__).resolve().parent / "data" / "alliances"


@dataclass(frozen=True)
class Chain:
    """A labelled value chain."""

    key: str
    market: str
    members: tuple[str, ...]


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def competitors(rows: list[dict[str, Any]]) -> set[frozenset[str]]:
    """Pairs of firms labelled as competitors: a firm written as a competitor of a chain
    member competes with that member and with the member's other competitors."""
    rivals_of: dict[str, set[str]] = {}
    for row in rows:
        if row.get("competitor_of"):
            rivals_of.setdefault(row["competitor_of"], set()).add(row["id"])
    pairs: set[frozenset[str]] = set()
    for member, rivals in rivals_of.items():
        group = sorted({member, *rivals})
        pairs.update(frozenset((a, b)) for i, a in enumerate(group) for b in group[i + 1 :])
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DATA_DIR)
    parser.add_argument(
        "--competition",
        type=float,
        default=COMPETITION_SIMILARITY,
        help="offers at least this similar compete (shipped: %(default)s)",
    )
    parser.add_argument(
        "--chains",
        choices=("all", "odd", "even"),
        default="all",
        help="odd-numbered chains to tune on, even-numbered ones to check",
    )
    parser.add_argument(
        "--no-nace", dest="nace", action="store_false", help="ignore the firms' CZ-NACE codes"
    )
    args = parser.parse_args(argv)
    rows = _read(args.data / "firms.jsonl")
    chains = [
        Chain(c["id"], c["market"], tuple(c["members"])) for c in _read(args.data / "chains.jsonl")
    ]
    if args.chains != "all":
        remainder = 1 if args.chains == "odd" else 0
        chains = [chain for chain in chains if int(chain.key.lstrip("c")) % 2 == remainder]
    embedder = SentenceTransformerEmbedder()
    offers = cache.facets(embedder, [row["offers"] for row in rows])
    with_needs = [i for i, row in enumerate(rows) if row.get("needs")]
    needs = dict(
        zip(with_needs, cache.facets(embedder, [rows[i]["needs"] for i in with_needs]), strict=True)
    )
    key_of = {i + 1: row["id"] for i, row in enumerate(rows)}
    firms = [
        Firm(
            key=i + 1,
            organization_id=i + 1,
            offers=offers[i].vector,
            needs=needs[i].vector if i in needs else None,
            markets=frozenset(row.get("markets", ())),
            region=row.get("region"),
            activities=frozenset([row["nace"]]) if args.nace and row.get("nace") else frozenset(),
        )
        for i, row in enumerate(rows)
    ]
    number_of = {row["id"]: i + 1 for i, row in enumerate(rows)}
    rivals = competitors(rows)
    matrix = np.vstack([firm.offers for firm in firms])

    def competing(members: Sequence[str]) -> bool:
        return any(
            frozenset((a, b)) in rivals for i, a in enumerate(members) for b in members[i + 1 :]
        )

    shipped = {"recovered": 0, "queries": 0, "candidates": 0, "with_competitors": 0}
    baseline = {"recovered": 0, "queries": 0, "candidates": 0, "with_competitors": 0}
    for chain in chains:
        wanted = set(chain.members)
        for seed in chain.members:
            query = AllianceQuery(
                seed=number_of[seed],
                market=chain.market,
                limit=5,
                competition_similarity=args.competition,
            )
            groups = [[key_of[k] for k in c.members] for c in find_alliances(firms, query)]
            order = np.argsort(-(matrix @ matrix[number_of[seed] - 1]), kind="stable")
            neighbours = [rows[i]["id"] for i in order if rows[i]["id"] != seed]
            nearest = [[seed, *neighbours[: size - 1]] for size in (3, 4, 5)]
            for tally, found in ((shipped, groups), (baseline, nearest)):
                tally["queries"] += 1
                tally["recovered"] += any(len(wanted & set(g)) >= 3 for g in found)
                tally["candidates"] += len(found)
                tally["with_competitors"] += sum(competing(g) for g in found)
    print(f"{len(chains)} chains in a pool of {len(rows)} firms; each chain seeded by each member")
    for label, tally in (("shipped", shipped), ("nearest neighbours", baseline)):
        recovered = tally["recovered"] / tally["queries"]
        paired = tally["with_competitors"] / max(tally["candidates"], 1)
        print(
            f"  {label:<19} chains recovered (>= 3 members in top 5) {recovered:.3f}   "
            f"candidates pairing competitors {paired:.3f}   ({tally['queries']} queries)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
