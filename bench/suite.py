"""``python -m bench.suite`` (``make bench``): the scale benchmarks at sizes that fit
this machine in minutes, with one summary.

Each benchmark runs in a process of its own (so none inherits another's memory or
threads), its output passed through; the last line each prints is a JSON object of
headline figures. The suite prints, as its last line, one JSON object merging them:
``match_overhead_ratio_100k`` (bench.match_latency), ``ann_recall_at_10`` and
``memory_ratio`` (bench.ann_index), ``ingest_ratio`` (bench.import_speed) and
``http_match_ratio`` (bench.http_load), plus the other figures each reports, and
``failed``: the benchmarks that exited with an error or printed no figures (the
suite then exits 1).

Run: ``python -m bench.suite [--only NAME ...]``; the sizes are in :data:`BENCHMARKS`.
The 1M-profile runs are separate commands (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.common import REPO_ROOT

BENCHMARKS: dict[str, list[str]] = {
    "ann_index": ["bench.ann_index", "--vectors", "100000", "--queries", "300"],
    "match_latency": ["bench.match_latency", "--profiles", "100000", "--queries", "200"],
    "import_speed": ["bench.import_speed", "--rows", "800"],
    "http_load": ["bench.http_load", "--profiles", "10000", "--seconds", "10"],
}


def run(name: str, module_and_args: Sequence[str]) -> tuple[dict[str, Any] | None, float]:
    """Run one benchmark, echoing its output; its last-line figures (None if it failed)
    and the seconds it took."""
    print(f"== {name}: python -m {' '.join(module_and_args)}", flush=True)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", *module_and_args],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    last = ""
    for line in process.stdout:
        print(line, end="", flush=True)
        if line.strip():
            last = line.strip()
    code = process.wait()
    took = time.perf_counter() - started
    try:
        figures = json.loads(last)
    except json.JSONDecodeError:
        figures = None
    if code != 0 or not isinstance(figures, dict):
        print(f"== {name}: failed (exit {code})", flush=True)
        return None, took
    return figures, took


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these")
    args = parser.parse_args(argv)
    summary: dict[str, Any] = {}
    failed: list[str] = []
    for name in args.only or BENCHMARKS:
        figures, took = run(name, BENCHMARKS[name])
        summary[f"{name}_seconds"] = round(took, 1)
        if figures is None:
            failed.append(name)
        else:  # a name another benchmark used already gets this one's prefix
            summary.update(
                {
                    (f"{name}_{key}" if key in summary else key): value
                    for key, value in figures.items()
                }
            )
    summary["failed"] = failed
    print(json.dumps(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
