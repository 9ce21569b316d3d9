"""A real server process (``partnermatch serve``, optionally ``--workers N``) for
restart, crash and several-worker tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

# An access line of a server with several workers: ``[pid] INFO: - "GET /p HTTP/1.1" 200``.
ACCESS_LINE = re.compile(
    r'^\[(?P<pid>\d+)\] .*"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" \d{3}\b'
)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """Start, stop and kill a server on a data folder and database."""

    def __init__(
        self, data_dir: Path, database_url: str, workers: int = 1, **settings: str
    ) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PARTNERMATCH_DATA_DIR": str(data_dir),
            "PARTNERMATCH_DATABASE_URL": database_url,
            "HF_HUB_OFFLINE": "1",
            **{f"PARTNERMATCH_{k.upper()}": v for k, v in settings.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "server.log"
        self.starts = 0

    def start(self, timeout: float = 120.0) -> None:
        """Start and wait until /readyz says 200 (from every worker)."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process (its own process group, with its workers) without waiting."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port)]
        if self.workers > 1:
            command += ["--workers", str(self.workers)]
        with open(self.log, "ab") as log:  # the child keeps its own copy of the handle
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Wait until /readyz says 200; with several workers, until each of them did."""
        assert self.process is not None
        ready: set[int] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                response, pid = self.request("GET", "/readyz", timeout=2)
            except httpx.TransportError:
                pass
            else:
                if response.status_code == 200:
                    ready.add(pid)
                if len(ready) == self.workers:
                    return
            time.sleep(0.2)
        raise AssertionError(f"server not ready: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        """Graceful stop (SIGTERM; with several workers the parent stops them first)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)

    def kill(self) -> None:
        """kill -9 of the process and its workers: no shutdown code runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def ensure_gone(self) -> None:
        """Stop the server if it still runs (a test's clean-up), by force if need be;
        workers left behind by a dead parent too."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.stop()
                return  # a stopped parent has stopped its workers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, int]:
        """One request on a connection of its own (so any worker may take it), and the
        process id of the worker that answered, read from the access log. Call it from
        one thread at a time."""
        assert self.process is not None
        kwargs.setdefault("timeout", 120)
        offset = self.log.stat().st_size
        response = httpx.request(method, f"{self.url}{path}", **kwargs)
        if self.workers == 1:
            return response, self.process.pid
        return response, self._answered_by(offset, method, path.split("?", 1)[0])

    def _answered_by(self, offset: int, method: str, path: str) -> int:
        """The worker whose access line for ``method path`` follows ``offset``."""
        with open(self.log, "rb") as log:
            log.seek(offset)
            written = log.read().decode("utf-8", errors="replace")
        for line in reversed(written.splitlines()):
            found = ACCESS_LINE.match(line)
            if found and (found["method"], found["path"]) == (method, path):
                return int(found["pid"])
        raise AssertionError(f"no access line for {method} {path}: {written[-2000:]}")

    def worker_pids(self) -> set[int]:
        """Process ids of the workers started so far, from uvicorn's log."""
        started = re.findall(r"Started server process \[(\d+)\]", self.log.read_text())
        return {int(pid) for pid in started}

    def client(self) -> httpx.Client:
        """An HTTP client for this server."""
        return httpx.Client(base_url=self.url, timeout=120)
