"""``Idempotency-Key`` on POST: a retry gets the first response, not a second write.

The first request with a key stores a fingerprint (method, path, query, body)
and then its response; a retry with the same key and body gets that response
again (``Idempotent-Replayed: true``), the same key with another body 422, and
a retry while the first is still running 409. Keys are per caller and kept for
24 hours. Server errors, auth failures and rate limits are not kept, so the
retry runs again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta

import anyio.to_thread
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemas.limits import MAX_IDEMPOTENCY_KEY_CHARS
from service.errors import send_problem
from service.models import IdempotencyRecord, utcnow

KEEP_FOR = timedelta(hours=24)
NOT_KEPT = {401, 403, 429}
KEPT_HEADERS = ("content-type", "location", "etag")
# Answers that carry a secret are never stored, so they cannot be replayed.
SECRET_ANSWERS = {"/api/v1/keys", "/api/v1/webhooks"}


@dataclass(frozen=True)
class Begun:
    """What to do with a request: run it (``record_id``), replay, or refuse."""

    outcome: str  # "run", "replay", "mismatch", "running"
    record: IdempotencyRecord | None = None


def begin(db_engine: Engine, scope: str, key: str, fingerprint: str) -> Begun:
    """Claim ``key`` for this request, or say why not."""
    with Session(db_engine, expire_on_commit=False) as session:
        found = _find(session, scope, key)
        if found is not None and found.created_at < utcnow() - KEEP_FOR:
            session.delete(found)
            session.commit()
            found = None
        if found is None:
            record = IdempotencyRecord(scope=scope, idempotency_key=key, fingerprint=fingerprint)
            session.add(record)
            try:
                session.commit()
                return Begun("run", record)
            except IntegrityError:  # a concurrent request claimed it first
                session.rollback()
                found = _find(session, scope, key)
                if found is None:
                    return Begun("running")
        if found.fingerprint != fingerprint:
            return Begun("mismatch")
        if found.status_code is None:
            return Begun("running")
        return Begun("replay", found)


def _find(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    return session.exec(
        select(IdempotencyRecord).where(
            IdempotencyRecord.scope == scope, IdempotencyRecord.idempotency_key == key
        )
    ).first()


def finish(
    db_engine: Engine, record_id: int, status: int, headers: dict[str, str], body: bytes
) -> None:
    """Keep the response for retries, or release the key when it should run again."""
    with Session(db_engine) as session:
        record = session.get(IdempotencyRecord, record_id)
        if record is None:
            return
        if status >= 500 or status in NOT_KEPT:
            session.delete(record)
        else:
            record.status_code = status
            record.headers = headers
            record.body = body
            session.add(record)
        session.commit()


def purge(db_engine: Engine) -> int:
    """Delete records past their 24 hours; returns how many."""
    with Session(db_engine) as session:
        old = session.exec(
            select(IdempotencyRecord).where(col(IdempotencyRecord.created_at) < utcnow() - KEEP_FOR)
        ).all()
        for record in old:
            session.delete(record)
        session.commit()
        return len(old)


def valid_key(key: str) -> bool:
    """1 to 255 visible ASCII characters."""
    return 0 < len(key) <= MAX_IDEMPOTENCY_KEY_CHARS and key.isascii() and key.isprintable()


class IdempotentPosts:
    """ASGI middleware; needs the caller resolved by ``AccessControl`` before it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get("idempotency-key") if scope["type"] == "http" else None
        principal = scope.get("state", {}).get("principal")
        if key is None or scope["method"] != "POST" or principal is None:
            await self.app(scope, receive, send)
            return
        if scope["path"] in SECRET_ANSWERS:
            await _header_problem(
                scope,
                send,
                "Idempotency-Key is not accepted here: the answer holds a secret that is never "
                "stored; retry without it",
            )
            return
        if not valid_key(key):
            await _header_problem(
                scope,
                send,
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII "
                "characters",
            )
            return
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            b"\0".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        db_engine = scope["app"].state.db_engine
        begun = await anyio.to_thread.run_sync(begin, db_engine, principal.scope, key, fingerprint)
        if begun.outcome == "mismatch":
            await _header_problem(
                scope, send, "this Idempotency-Key was used with a different request body"
            )
        elif begun.outcome == "running":
            await send_problem(
                scope,
                send,
                409,
                "Conflict",
                "a request with this Idempotency-Key is still in progress; retry shortly",
                [("retry-after", "1")],
            )
        elif begun.outcome == "replay":
            assert begun.record is not None
            await _replay(send, begun.record)
        else:
            assert begun.record is not None
            assert begun.record.id is not None
            await self._run(scope, body, send, db_engine, begun.record.id)

    async def _run(
        self, scope: Scope, body: bytes, send: Send, db_engine: Engine, record_id: int
    ) -> None:
        sent = False
        captured = _Captured()

        async def replay_body() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.status = message["status"]
                captured.headers = {
                    name.decode("latin-1"): value.decode("latin-1")
                    for name, value in message.get("headers", [])
                    if name.decode("latin-1").lower() in KEPT_HEADERS
                }
            elif message["type"] == "http.response.body":
                captured.chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await anyio.to_thread.run_sync(
                finish,
                db_engine,
                record_id,
                captured.status,
                captured.headers,
                b"".join(captured.chunks),
            )


@dataclass
class _Captured:
    status: int = 500  # if the app fails before answering
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] = field(default_factory=list)


async def _header_problem(scope: Scope, send: Send, detail: str) -> None:
    await send_problem(
        scope,
        send,
        422,
        "Unprocessable Content",
        detail,
        errors=[{"parameter": "Idempotency-Key", "in": "header", "detail": detail}],
    )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _replay(send: Send, record: IdempotencyRecord) -> None:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in record.headers.items()
    ]
    headers += [
        (b"content-length", str(len(record.body)).encode()),
        (b"idempotent-replayed", b"true"),
    ]
    await send({"type": "http.response.start", "status": record.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": record.body})
