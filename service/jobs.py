"""Background jobs: stored in the database, claimed by one worker, with progress.

A job is queued by a request (which answers 202 at once) and run by the
in-process worker of whichever server claims it first: the claim is a
conditional UPDATE, so several workers on one database never run a job twice.
A job whose worker died (no heartbeat for ``STALE_AFTER``) is queued again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.models import Job, JobFile, utcnow

log = logging.getLogger(__name__)

FINAL = ("done", "failed", "cancelled")
STALE_AFTER = timedelta(minutes=5)
MAX_ERRORS = 1_000  # kept per job; the count of failed rows is always exact

Handler = Callable[["JobContext"], None]


class Cancelled(Exception):
    """Raised inside a handler when the job was cancelled."""


class Interrupted(Exception):
    """Raised inside a handler when the server stops: the job is queued again and,
    imports being idempotent, simply runs again."""


class JobContext:
    """What a running job's handler sees: its file, and progress reporting."""

    def __init__(
        self,
        db_engine: Engine,
        job: Job,
        stopping: threading.Event | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        assert job.id is not None
        self.db_engine = db_engine
        self.job_id = job.id
        self.job = job
        self.stopping = stopping or threading.Event()
        self.on_progress = on_progress

    def content(self) -> bytes:
        """The uploaded file."""
        with Session(self.db_engine) as session:
            stored = session.get(JobFile, self.job_id)
            return b"" if stored is None else stored.content

    def progress(self, **counts: Any) -> None:
        """Store counts (``total``, ``done``, ``created`` …) and errors; raises
        :class:`Cancelled` when the job was cancelled meanwhile, :class:`Interrupted`
        when the server is stopping."""
        with Session(self.db_engine) as session:
            job = session.get(Job, self.job_id)
            assert job is not None
            for name, value in counts.items():
                setattr(job, name, value)
            job.heartbeat_at = utcnow()
            session.add(job)
            session.commit()
            if self.on_progress is not None:
                self.on_progress(counts)
            if job.cancel_requested:
                raise Cancelled
        if self.stopping.is_set():
            raise Interrupted


def enqueue(
    session: Session,
    *,
    kind: str,
    content: bytes,
    created_by_key_id: int | None,
    **fields: Any,
) -> Job:
    """Queue a job with its file (in the caller's transaction)."""
    job = Job(kind=kind, created_by_key_id=created_by_key_id, **fields)
    session.add(job)
    session.flush()
    assert job.id is not None
    session.add(JobFile(job_id=job.id, content=content))
    session.flush()
    return job


def request_cancel(session: Session, job: Job) -> Job:
    """Cancel a queued job at once, a running one at its next progress report."""
    if job.status == "queued":
        job.status = "cancelled"
        job.finished_at = utcnow()
        _drop_file(session, job)
    else:
        job.cancel_requested = True
    session.add(job)
    session.flush()
    return job


def _drop_file(session: Session, job: Job) -> None:
    stored = session.get(JobFile, job.id)
    if stored is not None:
        session.delete(stored)


def claim_next(db_engine: Engine, kinds: set[str]) -> Job | None:
    """Claim the oldest queued job of ``kinds`` for this worker, or None.

    The claim is ``UPDATE … WHERE id = ? AND status = 'queued'``: of two workers
    going for one job, one changes the row and the other changes nothing (on
    PostgreSQL under READ COMMITTED the second UPDATE waits for the first to commit,
    then finds the status no longer ``queued``) and tries the next candidate."""
    with Session(db_engine, expire_on_commit=False) as session:
        _requeue_stale(session)
        candidates = session.exec(
            select(Job.id)
            .where(Job.status == "queued", col(Job.kind).in_(sorted(kinds)))
            .order_by(col(Job.id))
            .limit(5)
        ).all()
        for job_id in candidates:
            now = utcnow()
            claimed = session.execute(
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == "queued")
                .values(status="running", started_at=now, heartbeat_at=now)
            )
            session.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                log.info("job %s claimed", job_id)
                return session.get(Job, job_id)
    return None


def _requeue_stale(session: Session) -> None:
    """Queue again the running jobs without a heartbeat for ``STALE_AFTER``.

    The UPDATE repeats the staleness condition: another worker may have queued and
    claimed the job (a fresh heartbeat) since the SELECT, and must keep it. On
    PostgreSQL the condition is evaluated again on the row's newest version."""
    cutoff = utcnow() - STALE_AFTER
    stale = (col(Job.status) == "running", col(Job.heartbeat_at) < cutoff)
    for job_id in session.exec(select(Job.id).where(*stale)).all():
        requeued = session.execute(
            update(Job).where(col(Job.id) == job_id, *stale).values(status="queued")
        )
        if requeued.rowcount == 1:  # type: ignore[attr-defined]
            log.warning("job %s lost its worker; queued again", job_id)
    session.commit()


def run_one(
    db_engine: Engine,
    job: Job,
    handler: Handler,
    stopping: threading.Event | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Run a claimed job to its end: done, failed (with a message) or cancelled; or
    back to the queue when the server stops meanwhile."""
    context = JobContext(db_engine, job, stopping, on_progress)
    status, message = "done", None
    try:
        handler(context)
    except Interrupted:
        with Session(db_engine) as session:
            session.execute(update(Job).where(col(Job.id) == job.id).values(status="queued"))
            session.commit()
        return
    except Cancelled:
        status = "cancelled"
    except JobFailed as exc:
        status, message = "failed", str(exc)[:500]
    except Exception:
        log.exception("job %s failed", job.id)
        status, message = "failed", "an unexpected error stopped the job; see the server log"
    with Session(db_engine) as session:
        stored = session.get(Job, job.id)
        assert stored is not None
        stored.status = status
        stored.message = message
        stored.finished_at = utcnow()
        session.add(stored)
        _drop_file(session, stored)
        session.commit()


class JobFailed(Exception):
    """A job that cannot go on (e.g. an unreadable file); the message is shown."""


class Worker:
    """Runs queued jobs one at a time in a background thread."""

    def __init__(
        self, db_engine: Engine, handlers: dict[str, Handler], interval: float = 0.5
    ) -> None:
        self.db_engine = db_engine
        self.handlers = handlers
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="job-worker", daemon=True)

    def start(self) -> None:
        """Start polling."""
        self._thread.start()

    def wake(self) -> None:
        """Look for work now (a job was just queued here)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the current batch (a running job goes back to the queue)."""
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = claim_next(self.db_engine, set(self.handlers))
                if job is not None:
                    run_one(self.db_engine, job, self.handlers[job.kind], self._stop)
                    continue
            except Exception:
                log.exception("job worker error; will retry")
            self._wake.wait(self.interval)
            self._wake.clear()
