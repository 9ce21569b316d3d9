"""``python -m bench.export_memory``: the opportunity export streams.

Fills a temporary SQLite database with N opportunities (default 50,000, two
members each), then, in one process, measures the peak Python memory
(tracemalloc) and the time of

- the shipped export (``GET /api/v1/opportunities/export?format=csv``: the
  generator the route streams, batches of 1,000 rows in their own session), and
- the baseline: the same selection loaded at once and written to one string.

Prints both and the ratio ``export_peak_ratio`` = streamed ÷ loaded at once.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlmodel import Session

from service import migrate
from service.db import make_engine
from service.models import Opportunity, OpportunityMember, utcnow
from service.opportunities import service
from service.opportunities.repository import OpportunityFilter
from service.opportunities.routes import _csv_lines

STATUSES = ("new", "contacted", "meeting", "agreement", "won", "declined", "archived")


def _fill(url: str, count: int) -> None:
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as session:
        for start in range(0, count, 5_000):
            ids = range(start + 1, min(start + 5_000, count) + 1)
            session.execute(
                insert(Opportunity),
                [
                    {
                        "id": i,
                        "status": STATUSES[i % len(STATUSES)],
                        "active": STATUSES[i % len(STATUSES)] in STATUSES[:4],
                        "pair_key": f"{i},{i + count}",
                        "version": 1,
                        "region": "CZ064",
                        "owner": "Šárka Říhová",
                        "due_date": date(2027, 1, 1) + timedelta(days=i % 365),
                        "source": "manual",
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            session.execute(
                insert(OpportunityMember),
                [
                    {
                        "opportunity_id": i,
                        "organization_id": organization,
                        "name": f"Organizace {organization} s.r.o., Žďár nad Sázavou",
                        "kind": kind,
                        "region": "CZ064",
                        "country": "CZ",
                    }
                    for i in ids
                    for organization, kind in ((i, "company"), (i + count, "research"))
                ],
            )
        session.commit()
    engine.dispose()


def _measure(run: Callable[[], int]) -> tuple[int, float, int]:
    """(bytes produced, seconds, peak traced bytes) of one run."""
    tracemalloc.start()
    started = time.perf_counter()
    produced = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return produced, seconds, peak


def _size(lines: Iterable[str]) -> int:
    return sum(len(line.encode()) for line in lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=50_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'export.db'}"
        migrate.upgrade(url)
        _fill(url, args.count)
        engine = make_engine(url)
        everything = OpportunityFilter()

        def streamed() -> int:
            return _size(_csv_lines(service.export_rows(engine, everything, sort="id")))

        def loaded_at_once() -> int:
            with Session(engine) as session:
                items, _ = service.list_page(
                    session, everything, sort="id", after=None, limit=args.count
                )
            return len("".join(_csv_lines(iter(items))).encode())

        results = {
            "streamed export": _measure(streamed),
            "loaded at once": _measure(loaded_at_once),
        }
        engine.dispose()
    print(f"{args.count:,} opportunities, CSV")
    for label, (size, seconds, peak) in results.items():
        print(
            f"  {label:<16} {size / 1e6:7.1f} MB out  {seconds:6.1f} s  peak {peak / 1e6:7.1f} MB"
        )
    ratio = results["streamed export"][2] / results["loaded at once"][2]
    print(f"export_peak_ratio = {ratio:.3f} (streamed ÷ loaded at once, same process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
