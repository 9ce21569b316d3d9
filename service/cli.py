"""Command line: ``partnermatch serve | migrate | reindex | demo``."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from importlib import resources
from typing import Any

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlmodel import Session, select

from matching.embedder import SentenceTransformerEmbedder
from schemas.organizations import OrganizationCreate
from service import feedback as feedback_report
from service import migrate, vector_store
from service.config import Settings
from service.db import make_engine
from service.engine import MatchEngine
from service.models import Organization
from service.organizations import service as organizations

app = typer.Typer(help="partnermatch: match companies with research organisations.")
console = Console()


def _prepared(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
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


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
) -> None:
    """Apply migrations, then serve the API."""
    settings = Settings()
    _prepared(settings)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    uvicorn.run("service.app:create_app", factory=True, host=host, port=port)


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
        existing = set(session.exec(select(Organization.name)))
        for item in data:
            if item["name"] in existing:
                continue
            organizations.create_organization(
                session, engine, OrganizationCreate.model_validate(item)
            )
            added += 1
        session.commit()
    console.print(f"demo data: {added} organisations added, {len(data) - added} already there")


if __name__ == "__main__":
    app()


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
