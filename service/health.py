"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from schemas.common import problem_responses
from service.db import SessionDep
from service.engine import MatchEngineDep
from service.errors import NotReady

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
async def healthz() -> dict[str, str]:
    """200 while the process serves requests (answered on the event loop)."""
    return {"status": "ok"}


@router.get("/readyz", responses=problem_responses(503), summary="Readiness")
def readyz(session: SessionDep, engine: MatchEngineDep, request: Request) -> dict[str, Any]:
    """200 only when the index holds every committed change; 503 otherwise."""
    if engine.failure:
        raise NotReady(f"index start-up failed: {engine.failure}")
    if not engine.in_sync(session):
        raise NotReady("the index is loading or catching up")
    return {
        "status": "ready",
        "profiles": len(engine.catalog),
        "index_version": engine.seq,
        "model_id": engine.model_id,
        "database": request.app.state.db_engine.dialect.name,
    }
