"""Start-up time of the server over N stored profiles: index built once, then loaded.

What is measured: a temporary data folder and database (SQLite, or a scratch
PostgreSQL database with ``--database-url``) are filled with N synthetic profiles and
their vectors (``generate()`` and ``fill_database()`` of ``bench.match_latency``). The
server is then started as ``bench.http_load`` serves it (the real app with the fake
embedder, whose model id is the stored vectors', one uvicorn process with
``partnermatch serve``'s logging): first once with no snapshot, so that it rebuilds the
index from the stored vectors and writes the snapshot (the "build" start), then
``--starts`` more times, each of which should load that snapshot. For every start:

- ``ready_s``: seconds from spawning the process to the first ``GET /readyz`` 200
  (polled every 20 ms on a new connection);
- the start-up phases from the server's log, in seconds after the spawn: ``app_s``
  (uvicorn's "Application startup complete": imports, app, bootstrap key; the index
  starts in a thread from there), ``index_s`` ("index snapshot loaded" or "index
  rebuilt"), ``index_ready_s`` ("index ready": after the check for missing vectors
  and the catch-up with the change log);
- ``peak_rss_mb``: the process's peak resident memory (VmHWM), read when it is ready;
- whether it loaded the snapshot or rebuilt the index.

``startup_snapshot_s`` is the median ``ready_s`` of the snapshot starts.

Size: each profile stores two facet vectors and three sentence vectors per facet (384
float32 each): the SQLite database takes about 16.5 kB a profile, 16.5 GB at 1M
(``--sentence-vectors 1`` stores one sentence, and its vector, a facet: about 8.4 kB a
profile; the texts are shorter too, so the index build is faster and its figures are
not comparable with the default's). The profiles are generated in chunks of 100,000
with seeds ``seed``, ``seed + 1``, ... (one ``generate()`` of 1M would need over 20 GB
of memory) and held while the database is filled: about 3 (1 + k) GB at 1M for k
sentence vectors a facet, plus about 1 GB of texts. Data go to a temporary folder
under ``--workdir`` (default: the system's), removed at the end; the fill is one
transaction, which SQLite writes to its WAL first: allow twice the database's size.

Run: ``python -m bench.startup [--profiles 100000] [--starts 3] [--sentence-vectors 3]
[--workdir DIR] [--seed 7] [--database-url URL]`` (URL as for ``bench.http_load``).
Results: printed, written to ``bench/results/startup.json``; the last line is one JSON
object with the headline.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from bench.common import environment, print_table, print_written, write_results
from bench.http_load import (
    log_tail,
    prepare_database,
    running_server,
    scratch_database,
    wait_ready,
)
from bench.match_latency import generate_in_chunks

LOG_MARKS = {  # phase -> first server log line containing this text
    "app_s": "Application startup complete",
    "index_s": "index snapshot loaded|index rebuilt",
    "index_ready_s": "index ready",
}


def database_mb(url: str) -> float:
    """Size of the database on disk (SQLite file with its WAL, or PostgreSQL's)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        files = [path, path.with_name(path.name + "-wal")]
        return sum(f.stat().st_size for f in files if f.exists()) / 2**20
    engine = create_engine(parsed, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            size = connection.execute(text("SELECT pg_database_size(current_database())"))
            return int(size.scalar_one()) / 2**20
    finally:
        engine.dispose()


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a running process, from /proc (NaN elsewhere)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def log_phases(log: str, spawned: float) -> dict[str, Any]:
    """Seconds after the spawn of the log lines in LOG_MARKS, and how the index came."""
    phases: dict[str, Any] = dict.fromkeys(LOG_MARKS)
    for line in log.splitlines():
        stamp, _, message = line.partition(" ")
        for name, marks in LOG_MARKS.items():
            if phases[name] is None and any(mark in message for mark in marks.split("|")):
                phases[name] = round(float(stamp) - spawned, 3)
                if name == "index_s":
                    phases["index_log"] = message
    loaded, rebuilt = "index snapshot loaded" in log, "index rebuilt" in log
    phases["index"] = "snapshot" if loaded and not rebuilt else "rebuilt" if rebuilt else "?"
    return phases


def start_once(url: str, data_dir: Path, log_path: Path, profiles: int) -> dict[str, Any]:
    """Spawn the server, wait for ``/readyz`` 200, read its peak memory, stop it."""
    spawned_at, spawned = time.time(), time.perf_counter()
    with running_server(url, data_dir, log_path) as (port, server):
        try:
            ready = wait_ready(port, server)
        except RuntimeError as exc:
            raise SystemExit(f"{exc}\n--- server output ---\n{log_tail(log_path)}") from None
        ready_s = time.perf_counter() - spawned
        rss = peak_rss_mb(server.pid)
    if ready.get("profiles") != profiles:
        raise SystemExit(f"the index holds {ready.get('profiles')} of {profiles} profiles")
    log = log_path.read_text(encoding="utf-8", errors="replace")
    return {"ready_s": round(ready_s, 3), **log_phases(log, spawned_at), "peak_rss_mb": rss}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--profiles", type=int, default=100_000, help="synthetic profiles")
    parser.add_argument("--starts", type=int, default=3, help="starts from the snapshot")
    parser.add_argument(
        "--sentence-vectors", type=int, default=3, choices=(1, 2, 3), help="stored per facet"
    )
    parser.add_argument("--workdir", type=Path, default=None, help="for the data folder")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (scratch DB)")
    args = parser.parse_args(argv)
    if args.profiles < 2 or args.starts < 1:
        parser.error("--profiles must be >= 2, --starts >= 1")
    dialect = "postgresql" if args.database_url else "sqlite"
    print(
        f"{args.profiles} profiles, {dialect}, {args.sentence_vectors} sentence vectors a "
        f"facet, 1 build start + {args.starts} snapshot starts"
    )
    setup: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="pm-bench-startup-", dir=args.workdir) as tmp,
        scratch_database(args.database_url, Path(tmp)) as url,
    ):
        data_dir = Path(tmp)
        started = time.perf_counter()
        data = generate_in_chunks(args.profiles, args.seed, args.sentence_vectors)
        setup["generate_s"] = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        prepare_database(url, data)
        setup["fill_s"] = round(time.perf_counter() - started, 1)
        del data
        gc.collect()
        setup["database_mb"] = round(database_mb(url), 1)
        print("setup: " + ", ".join(f"{k} {v}" for k, v in setup.items()), flush=True)
        starts = []
        for number in range(args.starts + 1):
            log_path = data_dir / f"server-{number}.log"
            starts.append(start_once(url, data_dir, log_path, args.profiles))
            print(f"  start {number}: ready after {starts[-1]['ready_s']:.2f} s", flush=True)
        setup["snapshot_mb"] = round((data_dir / "index.faiss").stat().st_size / 2**20, 1)

    build, loads = starts[0], starts[1:]
    startup_snapshot_s = statistics.median(s["ready_s"] for s in loads)
    print()
    print_table(
        ["start", "index", "app s", "index s", "index ready s", "/readyz 200 s", "peak RSS MB"],
        [
            [
                "build" if i == 0 else f"snapshot {i}",
                s["index"],
                s["app_s"],
                s["index_s"],
                s["index_ready_s"],
                s["ready_s"],
                s["peak_rss_mb"],
            ]
            for i, s in enumerate(starts)
        ],
    )
    print()
    print("setup: " + ", ".join(f"{k} {v}" for k, v in setup.items()))
    headline: dict[str, Any] = {
        "profiles": args.profiles,
        "startup_build_s": build["ready_s"],
        "startup_snapshot_s": startup_snapshot_s,
        "snapshot_loaded": build["index"] == "rebuilt"
        and all(s["index"] == "snapshot" for s in loads),
        "peak_rss_mb": round(max(s["peak_rss_mb"] for s in loads), 1),
        "peak_rss_build_mb": round(build["peak_rss_mb"], 1),
        "database": dialect,
    }
    config = {k: v for k, v in vars(args).items() if k not in ("database_url", "workdir")}
    path = write_results(
        "startup",
        {
            "benchmark": "startup",
            "config": config | {"database": dialect},
            "environment": environment(),
            "setup": setup,
            "starts": starts,
            "headline": headline,
        },
    )
    print_written(path)
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
