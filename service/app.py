"""The FastAPI application: wiring, lifespan (database, engine, snapshots)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matching.embedder import Embedder, SentenceTransformerEmbedder
from schemas.limits import MAX_BODY_BYTES
from service import health, idempotency, jobs
from service.admin.routes import router as admin_router
from service.alliances.routes import router as alliances_router
from service.auth import keys
from service.auth.middleware import AccessControl
from service.auth.policy import document_roles
from service.auth.resolver import KeyResolver
from service.body_limit import BodySizeLimit
from service.config import Settings
from service.db import make_engine
from service.een.routes import router as een_router
from service.engine import MatchEngine
from service.errors import install_error_handlers
from service.idempotency import IdempotentPosts
from service.imports.pipeline import run_import
from service.imports.routes import router as imports_router
from service.matches.routes import router as matches_router
from service.opportunities.routes import router as opportunities_router
from service.organizations.routes import router as organizations_router
from service.stats.routes import router as stats_router
from service.webhooks.delivery import run_dispatcher
from service.webhooks.routes import router as webhooks_router
from service.widget.assets import router as widget_assets_router
from service.widget.routes import router as widget_router

log = logging.getLogger(__name__)

DESCRIPTION = """
Matches companies with research organisations by what one **needs** and the
other **offers**, explains every result, and stores every run for follow-up.

Errors are `application/problem+json` (RFC 9457); a 422 lists each bad field
by its JSON Pointer. Bodies over 1 MiB get 413, texts over 10,000 characters 422.

Every `/api/v1` endpoint needs an API key, sent as `Authorization: Bearer <key>`;
its role (admin, advisor, integration, widget) and regions decide what it may
see and change, and each operation names the roles it admits in `x-roles`. Keys
are rate-limited (429 with `Retry-After`). A POST with an `Idempotency-Key`
header is applied once: a retry gets the first response.
"""


async def _keep_in_step(engine: MatchEngine, db_engine: Engine, interval: float) -> None:
    """Catch up with other writers, save the snapshot when it changed, and drop
    idempotency records past their 24 hours."""
    while True:
        await asyncio.sleep(interval)
        if not engine.ready:
            continue
        try:
            await asyncio.to_thread(_catch_up_and_save, engine, db_engine)
        except Exception:
            log.exception("index maintenance failed; will retry")


def _install_bootstrap_key(settings: Settings, db_engine: Engine) -> None:
    """Make the configured bootstrap admin key usable (and revoke a replaced one)."""
    with Session(db_engine) as session:
        if settings.bootstrap_admin_key is not None:
            keys.ensure_bootstrap(session, settings.bootstrap_admin_key.get_secret_value())
            session.commit()
        elif not keys.has_active_keys(session):
            log.warning("no API key exists: only requests from this machine are served")


def _catch_up_and_save(engine: MatchEngine, db_engine: Engine) -> None:
    with Session(db_engine) as session:
        engine.catch_up(session)
    engine.save_snapshot()
    idempotency.purge(db_engine)


def create_app(settings: Settings | None = None, *, embedder: Embedder | None = None) -> FastAPI:
    """Build the app; the model is loaded (unless given) and the index started in lifespan."""
    settings = settings or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db_engine = make_engine(settings.resolved_database_url)
        try:
            await asyncio.to_thread(_install_bootstrap_key, settings, db_engine)
        except BaseException:
            db_engine.dispose()
            raise
        model = embedder or await asyncio.to_thread(
            functools.partial(
                SentenceTransformerEmbedder,
                settings.embedding_model,
                czech_glossary=settings.use_czech_glossary,
            )
        )
        assert model is not None
        engine = MatchEngine(
            embedder=model, db_engine=db_engine, snapshot_path=settings.snapshot_path
        )
        app.state.db_engine = db_engine
        app.state.match_engine = engine
        worker = jobs.Worker(db_engine, {"import": functools.partial(run_import, engine=engine)})
        app.state.job_worker = worker
        worker.start()
        starter = threading.Thread(target=_start_quietly, args=(engine,), daemon=True)
        starter.start()
        maintenance = asyncio.create_task(
            _keep_in_step(engine, db_engine, settings.snapshot_interval_seconds)
        )
        stop_deliveries = asyncio.Event()
        dispatcher = asyncio.create_task(run_dispatcher(db_engine, settings, stop_deliveries))
        try:
            yield
        finally:
            stop_deliveries.set()
            await dispatcher
            await asyncio.to_thread(worker.stop)
            maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await maintenance
            await asyncio.to_thread(starter.join)
            if engine.ready:
                await asyncio.to_thread(engine.save_snapshot)
            db_engine.dispose()

    app = FastAPI(
        title="partnermatch",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.key_resolver = KeyResolver(settings)
    install_error_handlers(app)
    # Outermost last: size limit, then who is calling, then replay of idempotent POSTs.
    app.add_middleware(IdempotentPosts)
    app.add_middleware(AccessControl)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=MAX_BODY_BYTES,
        overrides={"/api/v1/imports": settings.max_import_bytes},
    )
    routers = (
        health.router,
        organizations_router,
        matches_router,
        opportunities_router,
        stats_router,
        alliances_router,
        admin_router,
        imports_router,
        een_router,
        webhooks_router,
        widget_router,
        widget_assets_router,
    )
    for router in routers:
        app.include_router(router)
    _document_problems_and_roles(app, routers)
    return app


def _document_problems_and_roles(app: FastAPI, routers: tuple[APIRouter, ...]) -> None:
    """Error responses are served as application/problem+json; say so in the OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        document_roles(routers, schema)
        for path in schema["paths"].values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status >= "400" and "application/json" in content:
                        content.pop("application/problem+json", None)
                        content["application/problem+json"] = content.pop("application/json")
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _start_quietly(engine: MatchEngine) -> None:
    # start() records the failure for /readyz; the thread must not die noisily.
    with contextlib.suppress(Exception):
        engine.start()
