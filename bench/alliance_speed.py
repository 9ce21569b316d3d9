"""``python -m bench.alliance_speed``: how long alliance candidates take for a region.

Synthetic pools (unit vectors clustered around 100 field centres, needs drawn
from other fields, two target markets per firm out of five, one region), the
search of ``matching.alliances.find_alliances`` with and without a seed and
with a market filter, best of three runs each. Baseline in the same process:
the top 5 nearest neighbours of a seed by offers (one matrix-vector product).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

import numpy as np

from matching.alliances import AllianceQuery, Firm, find_alliances

MARKETS = ("DE", "SA", "US", "CN", "PL")


def pool(size: int, dimension: int = 384, seed: int = 1) -> list[Firm]:
    """A synthetic region of ``size`` firms."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(100, dimension))

    def unit(rows: np.ndarray) -> np.ndarray:
        return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)

    offers = unit(centres[rng.integers(0, 100, size)] + 0.6 * rng.normal(size=(size, dimension)))
    needs = unit(centres[rng.integers(0, 100, size)] + 0.6 * rng.normal(size=(size, dimension)))
    return [
        Firm(
            key=i + 1,
            organization_id=i + 1,
            offers=offers[i],
            needs=needs[i],
            markets=frozenset(rng.choice(MARKETS, 2, replace=False).tolist()),
            region="CZ064",
        )
        for i in range(size)
    ]


def best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of ``runs`` timings, in seconds."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,5000")
    args = parser.parse_args(argv)
    for size in (int(value) for value in args.sizes.split(",")):
        firms = pool(size)
        offers = np.vstack([firm.offers for firm in firms])
        baseline = best_of(3, lambda offers=offers: np.argsort(-(offers @ offers[17]))[:6])
        print(f"{size:,} firms (baseline, top-5 neighbours of a seed: {baseline * 1e3:.2f} ms)")
        for label, query in (
            ("no seed", AllianceQuery()),
            ("seed", AllianceQuery(seed=18)),
            ("market SA", AllianceQuery(market="SA")),
        ):
            seconds = best_of(3, lambda firms=firms, query=query: find_alliances(firms, query))
            print(f"  {label:<10} {seconds:6.2f} s  ({seconds / baseline:,.0f} x baseline)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
