"""Command line: ``partnermatch serve | migrate | reindex | demo | eval | keys``."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, select

from matching.embedder import SentenceTransformerEmbedder
from schemas.access import KeyCreate
from schemas.organizations import OrganizationCreate
from service import audit, jobs, migrate, vector_store
from service import feedback as feedback_report
from service.auth import keys as api_keys
from service.auth.middleware import LOOPBACK
from service.auth.principal import COMMAND_LINE
from service.config import Settings
from service.db import make_engine
from service.engine import MatchEngine
from service.imports import formats
from service.imports.pipeline import run_import
from service.logs import log_config
from service.models import Job, Organization, utcnow
from service.organizations import service as organizations

app = typer.Typer(help="partnermatch: match companies with research organisations.")
keys_app = typer.Typer(help="Create, list and revoke API keys.")
app.add_typer(keys_app, name="keys")
console = Console()


# PostgreSQL advisory lock held while a process migrates: several hosts starting at
# once on one database take turns.
_START_UP_LOCK = 7_270_002


@contextlib.contextmanager
def _start_up_lock(database_url: str) -> Iterator[None]:
    """Hold the start-up lock on PostgreSQL (on its own connection, released when the
    block ends or the process dies); elsewhere do nothing. Two Alembic upgrades at the
    same moment would both create the same tables, and one would fail."""
    if make_url(database_url).get_backend_name() != "postgresql":
        yield
        return
    lock_engine = create_engine(database_url, poolclass=NullPool)
    try:
        with lock_engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _START_UP_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _START_UP_LOCK})
    finally:
        lock_engine.dispose()


def _prepared(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with _start_up_lock(settings.resolved_database_url):
        migrate.upgrade(settings.resolved_database_url)


@contextlib.contextmanager
def _engine(settings: Settings) -> Iterator[MatchEngine]:
    """The model and an index engine on the configured database, closed afterwards."""
    db_engine = make_engine(settings.resolved_database_url)
    try:
        yield MatchEngine(
            embedder=SentenceTransformerEmbedder(
                settings.embedding_model, czech_glossary=settings.use_czech_glossary
            ),
            db_engine=db_engine,
            snapshot_path=settings.snapshot_path,
        )
    finally:
        db_engine.dispose()


# With --workers, uvicorn kills a worker that does not answer its health check within
# this time. A new worker answers only once it has imported the app (torch and the rest,
# over 5 s on a busy machine): uvicorn's 5 s default killed and restarted workers that
# were merely starting.
_WORKER_HEALTHCHECK_SECONDS = 60


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(
        1,
        min=1,
        help="Worker processes on the port; each loads the model and holds its own index",
    ),
) -> None:
    """Apply migrations and install the bootstrap key, then serve the API with
    ``--workers`` processes. On an address other than loopback it refuses to start until
    an API key exists (see ``keys create``)."""
    settings = Settings()
    _prepared(settings)
    _install_bootstrap_key(settings)
    if host not in LOOPBACK and not host.startswith("127.") and not _any_key(settings):
        console.print(
            f"refusing to serve on {host} without an API key: anyone could read and change "
            "the data. Set PARTNERMATCH_BOOTSTRAP_ADMIN_KEY or run `partnermatch keys create "
            "--name admin --role admin`, or serve on 127.0.0.1."
        )
        raise typer.Exit(2)
    uvicorn.run(
        "service.app:create_app",  # an import string: each worker builds its own app
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_worker_healthcheck=_WORKER_HEALTHCHECK_SECONDS,
        log_config=_serve_log_config(workers),
    )


def _install_bootstrap_key(settings: Settings) -> None:
    """Store the configured bootstrap key here, once, before the workers start: workers
    starting together would each insert it, and all but one fail on its unique prefix
    (each worker's own start then finds it stored and changes nothing)."""
    if settings.bootstrap_admin_key is None:
        return
    db_engine = make_engine(settings.resolved_database_url)
    try:
        _ensure_bootstrap(db_engine, settings.bootstrap_admin_key.get_secret_value())
    except ValueError as exc:  # too short, or revoked
        console.print(str(exc))
        raise typer.Exit(2) from None
    finally:
        db_engine.dispose()


def _ensure_bootstrap(db_engine: Engine, key: str) -> None:
    """``ensure_bootstrap`` in a transaction of its own; when another process (another
    host starting at the same moment) stored the key first, look again and find it."""
    for attempt in range(2):
        try:
            with Session(db_engine) as session:
                api_keys.ensure_bootstrap(session, key)
                session.commit()
            return
        except IntegrityError:
            if attempt:
                raise


def _serve_log_config(workers: int) -> dict[str, Any]:
    """uvicorn's logging (access lines redacted) plus the app's own loggers at INFO,
    applied in every worker; with several workers each line starts with the worker's
    process id."""
    config = log_config()
    config["formatters"]["app"] = {"format": "%(levelname)s %(name)s: %(message)s"}
    config["handlers"]["app"] = {
        "class": "logging.StreamHandler",
        "formatter": "app",
        "stream": "ext://sys.stderr",
    }
    config["root"] = {"level": "INFO", "handlers": ["app"]}
    if workers > 1:
        for formatter in config["formatters"].values():
            key = "fmt" if "fmt" in formatter else "format"
            formatter[key] = "[%(process)d] " + formatter[key]
    return config


def _any_key(settings: Settings) -> bool:
    if settings.bootstrap_admin_key is not None:
        return True
    db_engine = make_engine(settings.resolved_database_url)
    try:
        with Session(db_engine) as session:
            return api_keys.has_active_keys(session)
    finally:
        db_engine.dispose()


@app.command("migrate")
def migrate_command() -> None:
    """Apply database migrations (serve does this by itself)."""
    settings = Settings()
    _prepared(settings)
    console.print("database is at the latest schema")


@app.command()
def reindex(
    all_profiles: bool = typer.Option(
        False, "--all", help="Embed every profile again, not only missing or stale ones"
    ),
) -> None:
    """Embed profiles with the configured model and rebuild the index snapshot."""
    settings = Settings()
    _prepared(settings)
    with _engine(settings) as engine:
        with Session(engine.db_engine) as session:
            keep = None if all_profiles else engine.model_id
            dropped = vector_store.drop_vectors(session, keep_model=keep)
            session.commit()
        embedded = engine.reconcile()
        settings.snapshot_path.unlink(missing_ok=True)
        engine.start()
    console.print(
        f"dropped {dropped} old vectors, embedded {embedded} profiles; "
        f"index holds {len(engine.catalog)} profiles ({engine.model_id})"
    )


@app.command()
def demo() -> None:
    """Load demo data: Czech research organisations and sample companies."""
    settings = Settings()
    _prepared(settings)
    data = json.loads(resources.files("service").joinpath("demo/demo_data.json").read_text("utf-8"))
    added = 0
    with _engine(settings) as engine, Session(engine.db_engine) as session:
        audit.attach(session, COMMAND_LINE)
        existing = set(session.exec(select(Organization.name)))
        for item in data:
            if item["name"] in existing:
                continue
            organizations.create_organization(
                session, engine, COMMAND_LINE, OrganizationCreate.model_validate(item)
            )
            added += 1
        session.commit()
    console.print(f"demo data: {added} organisations added, {len(data) - added} already there")


@app.command("eval")
def eval_command(
    feedback: bool = typer.Option(
        False,
        "--feedback",
        help="Precision of suggestions against the outcomes advisors recorded",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON"),
) -> None:
    """Evaluate match quality: against recorded outcomes (--feedback); the labelled
    benchmarks are `python -m bench.quality`."""
    if not feedback:
        console.print(
            "give --feedback to measure suggestions against recorded outcomes; the labelled "
            "benchmarks run with `python -m bench.quality`"
        )
        raise typer.Exit(2)
    settings = Settings()
    _prepared(settings)
    db_engine = make_engine(settings.resolved_database_url)
    try:
        with Session(db_engine) as session:
            report = feedback_report.report(feedback_report.outcomes(session))
    finally:
        db_engine.dispose()
    if as_json:
        console.print_json(json.dumps(report))
        return
    _print_feedback(report)


def _print_feedback(report: dict[str, Any]) -> None:
    if not report["decided"]:
        console.print("no decided opportunities from matches yet (won or declined)")
        return
    console.print(
        f"{report['decided']} decided opportunities from matches: {report['won']} won, "
        f"{report['declined']} declined; precision {report['precision']:.3f}"
    )
    for title, key in (("rank", "by_rank"), ("score", "by_score")):
        table = Table(title=f"by {title}")
        for column in (title, "decided", "won", "declined", "precision"):
            table.add_column(column, justify="right")
        for row in report[key]:
            table.add_row(
                row["band"],
                *(str(row[c]) for c in ("decided", "won", "declined")),
                f"{row['precision']:.3f}",
            )
        console.print(table)
    table = Table(title="mean score components")
    for column in ("component", "won", "declined"):
        table.add_column(column, justify="right")
    for name, means in report["components"].items():
        table.add_row(name, *("-" if v is None else f"{v:.3f}" for v in means.values()))
    console.print(table)


def _split(values: str | None) -> list[str]:
    return [value.strip() for value in (values or "").split(",") if value.strip()]


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., help="admin, advisor, integration or widget"),
    name: str = typer.Option(..., help="Who or what uses the key"),
    regions: str | None = typer.Option(None, help="NUTS 3 codes of an advisor, comma-separated"),
    origins: str | None = typer.Option(
        None, help="Web sites a widget key may be used from, comma-separated"
    ),
    expires: str | None = typer.Option(
        None, help="Expiry, ISO 8601 with a time zone, e.g. 2027-06-30T00:00:00+02:00"
    ),
) -> None:
    """Create a key; the key itself is printed alone on the last line, this once."""
    try:
        body = KeyCreate.model_validate(
            {
                "name": name,
                "role": role,
                "regions": _split(regions),
                "allowed_origins": _split(origins),
                "expires_at": expires,
            }
        )
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "key"
            console.print(f"invalid {where}: {error['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(2) from None
    settings = Settings()
    _prepared(settings)
    db_engine = make_engine(settings.resolved_database_url)
    try:
        with Session(db_engine, expire_on_commit=False) as session:
            audit.attach(session, COMMAND_LINE)
            made = api_keys.create(
                session,
                name=body.name,
                role=body.role,
                regions=body.regions,
                allowed_origins=body.allowed_origins,
                expires_at=body.expires_at,
            )
            session.commit()
            row = made.row
    finally:
        db_engine.dispose()
    console.print(
        f"key {row.id} '{row.name}' ({row.role}"
        + (f", regions {', '.join(row.regions)}" if row.regions else "")
        + (f", expires {row.expires_at.isoformat()}" if row.expires_at else "")
        + "); store it now, it is not shown again:"
    )
    print(made.plaintext)  # noqa: T201 - the key alone, for scripts (no rich markup)


@keys_app.command("revoke")
def keys_revoke(key_id: int = typer.Argument(..., help="The key's id (see keys list)")) -> None:
    """Revoke a key: it stops working within seconds."""
    settings = Settings()
    _prepared(settings)
    db_engine = make_engine(settings.resolved_database_url)
    try:
        with Session(db_engine, expire_on_commit=False) as session:
            audit.attach(session, COMMAND_LINE)
            row = api_keys.revoke(session, key_id)
            session.commit()
    finally:
        db_engine.dispose()
    if row is None:
        console.print(f"there is no key {key_id}")
        raise typer.Exit(1)
    console.print(f"key {key_id} '{row.name}' is revoked")


@keys_app.command("list")
def keys_list(
    include_revoked: bool = typer.Option(False, "--all", help="Also revoked keys"),
) -> None:
    """Keys with their role, regions, expiry and last use (never the keys)."""
    settings = Settings()
    _prepared(settings)
    db_engine = make_engine(settings.resolved_database_url)
    try:
        with Session(db_engine) as session:
            rows = api_keys.listing(session, include_revoked=include_revoked)
    finally:
        db_engine.dispose()
    table = Table()
    for column in ("id", "name", "role", "prefix", "regions", "expires", "last used", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row.id),
            row.name,
            row.role,
            row.prefix,
            ", ".join(row.regions),
            *(
                "-" if value is None else value.isoformat(timespec="seconds")
                for value in (row.expires_at, row.last_used_at, row.revoked_at)
            ),
        )
    console.print(table)


@app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="CSV, JSON Lines or EEN profiles JSON"),
    format_: str | None = typer.Option(
        None, "--format", help="csv, jsonl or een; by default from the file"
    ),
) -> None:
    """Import organisations from a file, with a progress bar and a summary; exits 1 when
    a row or the file failed."""
    if format_ is not None and format_ not in formats.FORMATS:
        console.print(f"unknown format '{format_}': use one of {', '.join(formats.FORMATS)}")
        raise typer.Exit(2)
    try:
        content = path.read_bytes()
    except OSError as exc:
        console.print(f"cannot read {path}: {exc.strerror}")
        raise typer.Exit(2) from None
    settings = Settings()
    _prepared(settings)
    chosen = format_ or formats.detect(path.name, content)
    with _engine(settings) as engine:
        with Session(engine.db_engine, expire_on_commit=False) as session:
            job = jobs.enqueue(  # running already: no server's worker may claim it
                session,
                kind="import",
                content=content,
                created_by_key_id=None,
                format=chosen,
                filename=path.name[:255],
                status="running",
                started_at=utcnow(),
                heartbeat_at=utcnow(),
            )
            session.commit()
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task(f"importing {path.name} ({chosen})", total=None)

            def show(counts: dict[str, Any]) -> None:
                bar.update(task, total=counts.get("total"), completed=counts.get("done", 0))

            jobs.run_one(
                engine.db_engine,
                job,
                functools.partial(run_import, engine=engine),
                on_progress=show,
            )
        with Session(engine.db_engine) as session:
            finished = session.get(Job, job.id)
    assert finished is not None
    _print_job(finished)
    if finished.status != "done" or finished.failed:
        raise typer.Exit(1)


def _print_job(job: Job) -> None:
    table = Table(title=f"import {job.filename}: {job.status}")
    for column in ("rows", "created", "updated", "unchanged", "failed"):
        table.add_column(column, justify="right")
    counts = (job.total, job.created, job.updated, job.unchanged, job.failed)
    table.add_row(*(str(value) for value in counts))
    console.print(table)
    if job.message:
        console.print(f"the file was not imported: {job.message}")
    if job.errors:
        errors = Table(title="rows not imported")
        for column in ("row", "field", "problem"):
            errors.add_column(column)
        for error in job.errors[:50]:
            errors.add_row(str(error["row"]), error["field"] or "-", error["message"])
        console.print(errors)
        if job.failed > 50:
            console.print(f"... and {job.failed - 50} more rows (GET /api/v1/jobs/{job.id})")


if __name__ == "__main__":
    app()
