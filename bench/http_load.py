"""HTTP throughput of the match endpoint under concurrent load, against a trivial endpoint.

What is measured: requests/s of ``POST /api/v1/matches`` with ``{"profile_id": <random
company profile>, "limit": 10}`` (key lookup, rate limiter, a database session,
catch-up with the change log, two FAISS scans and re-scoring, explanations, the run
stored: a write per request), against ``GET /healthz`` of the same app (answered on
the event loop) as the baseline, run before and after the match phase so that it
brackets it.

How: the real app (``service.app.create_app`` with ``bench.match_latency.FakeEmbedder``,
whose model id is the one of the stored vectors) is served by uvicorn on loopback, in
a process of its own with ``partnermatch serve``'s logging, over a temporary database
holding N synthetic profiles (``generate()`` and ``fill_database()`` of
``bench.match_latency``; SQLite by default, or a scratch PostgreSQL database made for
the run and dropped after it). This process is the load generator: ``--concurrency``
keep-alive connections, each sending its next request as soon as the previous one is
answered (a closed loop), for ``--seconds`` after ``--warmup`` uncounted seconds. It
writes prepared HTTP/1.1 requests on asyncio streams: about 0.1 ms of client CPU a
request, against about 0.8 ms of server CPU for the trivial one (an httpx client took
1.9 ms, so the trivial rate it measured was the client's). Every request carries the
bootstrap admin key, so both endpoints pass the same middleware (the rate limit is set
so high it never refuses). Only 2xx answers count; more than 1 % errors in a phase
fails the run (exit 1).

``http_match_ratio`` = match req/s / trivial req/s (both trivial phases together): the
share of the server's HTTP capacity left when every request is a match. The machine
has 2 cores shared by the server, this client and anything else running: the table
gives the CPU the server process(es) and the client used; ``srv CPU ms/req`` is less
sensitive to other load than req/s (PostgreSQL's own CPU is not in it). ``--workers N``
serves like ``partnermatch serve --workers N``: an import-string factory
(``bench.http_load:bench_app``), N processes on one port, each with its own index.

Run: ``python -m bench.http_load [--profiles 10000] [--seconds 15] [--concurrency 8]
[--workers 1] [--warmup 3] [--seed 7] [--database-url URL]`` (URL: a PostgreSQL server,
e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``; the database it names is
only used to create and drop a scratch database). Results: printed, written to
``bench/results/http_load.json``; the last line is one JSON object with the headline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import math
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bench.common import (
    REPO_ROOT,
    environment,
    latency_summary,
    print_table,
    print_written,
    write_results,
)
from bench.match_latency import LIMIT, FakeEmbedder, Synthetic, fill_database, generate

if TYPE_CHECKING:
    from fastapi import FastAPI

HOST = "127.0.0.1"
TRIVIAL_PATH = "/healthz"
MATCH_PATH = "/api/v1/matches"
ADMIN_KEY = "bench-http-load-admin-key-" + "0" * 16  # >= 32 characters, loopback only
RATE_LIMIT_PER_MINUTE = 1_000_000_000  # never refuses
MAX_ERROR_SHARE = 0.01
READY_TIMEOUT_S = 3600.0  # a first start over 1M profiles builds the index
READY_POLL_S = 0.02
REQUEST_TIMEOUT_S = 60.0
PICKS = 5_000  # random company profile ids, cycled through by the load generator
SEED_ENV = "BENCH_HTTP_LOAD_SEED"  # the FakeEmbedder's seed in the server process


# -- the server process ------------------------------------------------------------


def bench_app() -> FastAPI:
    """The uvicorn factory of the server process: settings from the environment
    (``PARTNERMATCH_*``, as ``service.app:create_app``), plus the fake embedder."""
    from service.app import create_app
    from service.config import Settings

    return create_app(Settings(), embedder=FakeEmbedder(int(os.environ.get(SEED_ENV, "0"))))


def serve(port: int, workers: int) -> None:
    """Run uvicorn as ``partnermatch serve`` does (blocks); every log line starts with
    its Unix time, which ``bench.startup`` reads."""
    import uvicorn

    from service.cli import _WORKER_HEALTHCHECK_SECONDS, _serve_log_config

    config = _serve_log_config(workers)
    for formatter in config["formatters"].values():
        key = "fmt" if "fmt" in formatter else "format"
        formatter[key] = "%(created).3f " + formatter[key]
    uvicorn.run(
        "bench.http_load:bench_app",
        factory=True,
        host=HOST,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=_WORKER_HEALTHCHECK_SECONDS,
        log_config=config,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(
    database_url: str, data_dir: Path, log_path: Path, *, workers: int = 1, seed: int = 0
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """Spawn ``python -m bench.http_load --serve-port P`` (output to ``log_path``);
    yield its port and process; stop it (SIGTERM, a graceful shutdown) afterwards."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERMATCH_")}
    env.update(
        {
            "PARTNERMATCH_DATA_DIR": str(data_dir),
            "PARTNERMATCH_DATABASE_URL": database_url,
            "PARTNERMATCH_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
            "PARTNERMATCH_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT_PER_MINUTE),
            SEED_ENV: str(seed),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
        }
    )
    command = [sys.executable, "-m", "bench.http_load", "--serve-port", str(port)]
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [*command, "--workers", str(workers)],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def call(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    """One request on a new connection: status and decoded JSON body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_S)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"}
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def wait_ready(port: int, server: subprocess.Popen[bytes], in_a_row: int = 1) -> dict[str, Any]:
    """Poll ``GET /readyz`` every 20 ms until it answers 200 ``in_a_row`` times (with
    several workers, each new connection may reach another one); its last body."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    seen, body = 0, dict[str, Any]()
    while seen < in_a_row:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server was not ready after {READY_TIMEOUT_S:.0f} s")
        try:
            status, body = call(port, "GET", "/readyz")
        except (OSError, http.client.HTTPException, ValueError):
            status = 0
        seen = seen + 1 if status == 200 else 0
        if status != 200:
            time.sleep(READY_POLL_S)
    return body


def log_tail(path: Path, chars: int = 4_000) -> str:
    """The end of a server log (for error messages)."""
    return path.read_text(encoding="utf-8", errors="replace")[-chars:] if path.exists() else ""


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants (Linux /proc; NaN elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    try:
        entries = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return math.nan
    for entry in entries:
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / ticks
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu.get(current, 0.0)
        todo.extend(child for child, parent in parents.items() if parent == current)
    return total


# -- the database ------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(url: str | None, folder: Path) -> Iterator[str]:
    """A SQLite file in ``folder``, or a PostgreSQL database made here and dropped after."""
    if url is None:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    base = make_url(url)
    if base.get_backend_name() != "postgresql":
        raise SystemExit("--database-url: only PostgreSQL (SQLite is the default)")
    name = f"pm_bench_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare_database(url: str, data: Synthetic) -> None:
    """Migrate, fill with the synthetic profiles, install the admin key."""
    from sqlmodel import Session

    from service.auth import keys
    from service.db import make_engine
    from service.migrate import upgrade

    if not data.ids_of("company") or not data.ids_of("research"):
        raise SystemExit("too few profiles: need at least one company and one research profile")
    upgrade(url)
    db = make_engine(url)
    try:
        fill_database(db, data)
        # Before the workers start, as ``partnermatch serve`` does (they would race).
        with Session(db) as session:
            keys.ensure_bootstrap(session, ADMIN_KEY)
            session.commit()
    finally:
        db.dispose()


# -- the load ----------------------------------------------------------------------


def raw_request(method: str, path: str, body: bytes = b"") -> bytes:
    """A complete HTTP/1.1 request, prepared once and written as is."""
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {ADMIN_KEY}\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one response (uvicorn sends Content-Length for JSON)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.split(":", 1) for line in head[1:] if line)
    lengths = [int(v) for k, v in headers.items() if k.strip().lower() == "content-length"]
    if not lengths:
        raise ValueError(f"no Content-Length in {head[0]!r}")
    return int(head[0].split(" ", 2)[1]), await reader.readexactly(lengths[0])


@dataclass
class Phase:
    """What one measured phase gave."""

    name: str
    endpoint: str
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    elapsed_s: float = math.nan
    client_cpu_s: float = math.nan
    server_cpu_s: float = math.nan

    def failed(self, error: str, detail: str) -> None:
        """Count an error, keeping a few examples."""
        self.errors[error] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{error}: {detail[:300]}")

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s

    @property
    def error_share(self) -> float:
        attempts = self.ok + self.errors.total()
        return self.errors.total() / attempts if attempts else 1.0

    @property
    def latency(self) -> dict[str, float]:
        if not self.latencies:
            return {"n": 0, "p50_ms": math.nan, "p95_ms": math.nan, "p99_ms": math.nan}
        return latency_summary(self.latencies) | {
            "p99_ms": float(np.percentile(self.latencies, 99) * 1000.0)
        }

    def summary(self) -> dict[str, Any]:
        """The phase as JSON."""
        return {
            "phase": self.name,
            "endpoint": self.endpoint,
            "ok_2xx": self.ok,
            "errors": dict(self.errors),
            "error_share": self.error_share,
            "elapsed_s": self.elapsed_s,
            "rps": self.rps,
            "latency": self.latency,
            "client_cpu_s": self.client_cpu_s,
            "server_cpu_s": self.server_cpu_s,
            "server_cpu_ms_per_request": 1000.0 * self.server_cpu_s / max(self.ok, 1),
            "error_samples": self.samples,
        }


async def closed_loops(
    port: int, requests: Sequence[bytes], concurrency: int, seconds: float, phase: Phase
) -> None:
    """``concurrency`` connections, each sending requests one after the other for
    ``seconds``; the requests in flight at the end are awaited and counted."""

    async def loop(index: int, deadline: float) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                request = requests[index % len(requests)]
                index += 1
                started = time.perf_counter()
                try:
                    writer.write(request)
                    status, body = await read_response(reader)
                except (OSError, EOFError, ValueError) as exc:
                    phase.failed(type(exc).__name__, str(exc))
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    continue
                if 200 <= status < 300:
                    phase.ok += 1
                    phase.latencies.append(time.perf_counter() - started)
                else:
                    phase.failed(f"HTTP {status}", body.decode("utf-8", "replace"))
        finally:
            writer.close()

    started = time.perf_counter()
    picker = random.Random(phase.name)
    offsets = [picker.randrange(len(requests)) for _ in range(concurrency)]
    await asyncio.gather(*(loop(offset, started + seconds) for offset in offsets))
    phase.elapsed_s = time.perf_counter() - started


def run_phase(
    name: str, port: int, server_pid: int, requests: Sequence[bytes], args: argparse.Namespace
) -> Phase:
    """Warm-up (not counted), then one measured phase with its CPU accounting."""
    endpoint = requests[0].split(b" HTTP/", 1)[0].decode()
    if args.warmup > 0:
        asyncio.run(closed_loops(port, requests, args.concurrency, args.warmup, Phase("", "")))
    phase = Phase(name, endpoint)
    server_before, client_before = tree_cpu_seconds(server_pid), time.process_time()
    asyncio.run(closed_loops(port, requests, args.concurrency, args.seconds, phase))
    phase.client_cpu_s = time.process_time() - client_before
    phase.server_cpu_s = tree_cpu_seconds(server_pid) - server_before
    return phase


# -- the run -----------------------------------------------------------------------


def measure(args: argparse.Namespace, tmp: Path, url: str) -> tuple[list[Phase], dict[str, Any]]:
    """Fill the database, start the server, run the three phases; phases and set-up."""
    setup: dict[str, Any] = {}
    started = time.perf_counter()
    data = generate(args.profiles, args.seed)
    prepare_database(url, data)
    setup["generate_and_fill_s"] = round(time.perf_counter() - started, 2)
    companies = data.ids_of("company")
    setup["company_profiles"] = len(companies)
    del data
    picker = random.Random(args.seed + 1)
    bodies = [
        json.dumps({"profile_id": picker.choice(companies), "limit": LIMIT}) for _ in range(PICKS)
    ]
    match = [raw_request("POST", MATCH_PATH, body.encode()) for body in bodies]
    trivial = [raw_request("GET", TRIVIAL_PATH)]
    log_path = tmp / "server.log"
    started = time.perf_counter()
    with running_server(url, tmp, log_path, workers=args.workers, seed=args.seed) as (
        port,
        server,
    ):
        try:
            ready = wait_ready(port, server, in_a_row=10 * args.workers)
            setup["server_ready_s"] = round(time.perf_counter() - started, 2)
            if ready.get("profiles") != args.profiles:
                raise RuntimeError(f"the index holds {ready.get('profiles')} profiles")
            status, probe = call(port, "POST", MATCH_PATH, bodies[0].encode())
            if not 200 <= status < 300:
                raise RuntimeError(f"probe match: HTTP {status}: {str(probe)[:500]}")
            setup["probe_match_results"] = len(probe["results"])
            phases = []
            for name, requests in (
                ("trivial before", trivial),
                ("match", match),
                ("trivial after", trivial),
            ):
                phases.append(run_phase(name, port, server.pid, requests, args))
                print(f"  {name}: {phases[-1].rps:.1f} req/s", flush=True)
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with code {server.returncode}")
        except (RuntimeError, OSError) as exc:  # OSError: the server went away
            raise SystemExit(f"{exc}\n--- server output ---\n{log_tail(log_path)}") from None
    return phases, setup


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--profiles", type=int, default=10_000, help="synthetic profiles")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured time per phase")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--warmup", type=float, default=3.0, help="uncounted seconds per phase")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="PostgreSQL server (scratch DB)")
    parser.add_argument("--serve-port", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_port is not None:  # the server process started by running_server()
        serve(args.serve_port, args.workers)
        return
    if args.concurrency < 1 or args.workers < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--concurrency and --workers must be >= 1, --seconds > 0, --warmup >= 0")
    dialect = "postgresql" if args.database_url else "sqlite"
    print(
        f"{args.profiles} profiles, {dialect}, {args.workers} worker(s), {args.concurrency} "
        f"connections, {args.warmup:g} s warm-up + {args.seconds:g} s per phase"
    )
    with (
        tempfile.TemporaryDirectory(prefix="pm-bench-http-") as tmp,
        scratch_database(args.database_url, Path(tmp)) as url,
    ):
        phases, setup = measure(args, Path(tmp), url)

    before, matched, after = phases
    trivial_ok, trivial_s = before.ok + after.ok, before.elapsed_s + after.elapsed_s
    trivial_rps = trivial_ok / trivial_s
    ratio = matched.rps / trivial_rps
    match_cpu_ms = 1000.0 * matched.server_cpu_s / max(matched.ok, 1)
    trivial_cpu_ms = 1000.0 * (before.server_cpu_s + after.server_cpu_s) / max(trivial_ok, 1)
    print()
    print_table(
        "phase,2xx,errors,req/s,p50 ms,p95 ms,p99 ms,srv CPU ms/req,srv cores,client cores".split(
            ","
        ),
        [
            [
                f"{p.name}: {p.endpoint}",
                p.ok,
                p.errors.total(),
                p.rps,
                p.latency["p50_ms"],
                p.latency["p95_ms"],
                p.latency["p99_ms"],
                1000.0 * p.server_cpu_s / max(p.ok, 1),
                p.server_cpu_s / p.elapsed_s,
                p.client_cpu_s / p.elapsed_s,
            ]
            for p in phases
        ],
    )
    print()
    print(
        f"http_match_ratio {ratio:.4f} = {matched.rps:.1f} match req/s / {trivial_rps:.1f} "
        f"trivial req/s (trivial after / before: {after.rps / before.rps:.2f}); server CPU "
        f"per request: match {match_cpu_ms:.2f} ms, trivial {trivial_cpu_ms:.3f} ms"
    )
    print("setup: " + ", ".join(f"{k} {v}" for k, v in setup.items()))
    for p in phases:
        for sample in p.samples:
            print(f"error in {p.name}: {sample}")

    headline: dict[str, Any] = {
        "http_match_rps": round(matched.rps, 2),
        "http_trivial_rps": round(trivial_rps, 1),
        "http_match_ratio": round(ratio, 4),
        "http_match_p50_ms": round(matched.latency["p50_ms"], 1),
        "http_match_p95_ms": round(matched.latency["p95_ms"], 1),
        "server_cpu_ms_per_match": round(match_cpu_ms, 2),
        "server_cpu_ms_per_trivial": round(trivial_cpu_ms, 3),
        "errors": sum(p.errors.total() for p in phases),
        "profiles": args.profiles,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "database": dialect,
    }
    config = {k: v for k, v in vars(args).items() if k not in ("serve_port", "database_url")}
    path = write_results(
        "http_load",
        {
            "benchmark": "http_load",
            "config": config | {"database": dialect, "limit": LIMIT},
            "environment": environment(),
            "setup": setup,
            "phases": [p.summary() for p in phases],
            "headline": headline,
        },
    )
    print_written(path)
    print(json.dumps(headline))
    failed = [p.name for p in phases if p.ok == 0 or p.error_share > MAX_ERROR_SHARE]
    if failed:
        raise SystemExit(f"FAILED: over {MAX_ERROR_SHARE:.0%} errors (or no 2xx): {failed}")


if __name__ == "__main__":
    main()
