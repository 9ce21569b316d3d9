"""Sending deliveries: signed, in order per object, retried with backoff, then given up.

A delivery is sent once it is due and no earlier delivery of the same webhook
about the same object is still pending, so a receiver sees each object's
events in the order they happened. A 2xx answer delivers it; anything else
(another status, a timeout, a refused connection) schedules the next attempt
after ``webhook_retry_seconds`` doubling each time (at most an hour apart)
until ``webhook_give_up_hours`` after the event, when it is marked failed.
Several workers may run at once: each claims a row before sending it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import exists, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from service.config import Settings
from service.models import Webhook, WebhookDelivery, utcnow
from service.webhooks import signing

log = logging.getLogger(__name__)

MAX_WAIT = timedelta(hours=1)
MAX_ERROR_CHARS = 500
MAX_PARALLEL_SENDS = 8
USER_AGENT = "partnermatch-webhooks/1"


@dataclass(frozen=True)
class _Due:
    """A delivery to send, with its receiver, as read before claiming it."""

    id: int
    url: str
    secret: str
    event: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    next_attempt_at: datetime


def body_of(delivery_id: int, event: str, created_at: datetime, payload: dict[str, Any]) -> bytes:
    """The JSON body a receiver gets (the signature covers these exact bytes)."""
    document = {
        "id": delivery_id,
        "event": event,
        "created_at": created_at.isoformat(),
        "data": payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    seconds = settings.webhook_retry_seconds * 2 ** min(max(attempts - 1, 0), 30)
    return min(timedelta(seconds=seconds), MAX_WAIT)


def _lease(settings: Settings) -> timedelta:
    # httpx times connect, write and read separately, so one attempt may take about
    # three timeouts; the claim must outlast it or another worker would send it again.
    return timedelta(seconds=3 * settings.webhook_timeout_seconds + 5)


def _due(db_engine: Engine, now: datetime, limit: int) -> list[_Due]:
    earlier = aliased(WebhookDelivery)
    held_back = (
        exists()
        .where(col(earlier.webhook_id) == col(WebhookDelivery.webhook_id))
        .where(col(earlier.object_type) == col(WebhookDelivery.object_type))
        .where(col(earlier.object_id) == col(WebhookDelivery.object_id))
        .where(col(earlier.status) == "pending")
        .where(col(earlier.id) < col(WebhookDelivery.id))
    )
    statement = (
        select(WebhookDelivery, Webhook.url, Webhook.secret)
        .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
        .where(
            col(WebhookDelivery.status) == "pending",
            col(WebhookDelivery.next_attempt_at) <= now,
            col(Webhook.active).is_(True),
            ~held_back,
        )
        .order_by(col(WebhookDelivery.id))
        .limit(limit)
    )
    with Session(db_engine) as session:
        return [
            _Due(
                id=row.id or 0,
                url=url,
                secret=secret,
                event=row.event,
                payload=row.payload,
                attempts=row.attempts,
                created_at=row.created_at,
                next_attempt_at=row.next_attempt_at,
            )
            for row, url, secret in session.exec(statement)
        ]


def _claim(db_engine: Engine, due: _Due, until: datetime) -> bool:
    """Move the row's next attempt past this one, unless another worker did first."""
    with db_engine.begin() as connection:
        result = connection.execute(
            update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == due.id,
                col(WebhookDelivery.status) == "pending",
                col(WebhookDelivery.next_attempt_at) == due.next_attempt_at,
            )
            .values(next_attempt_at=until)
        )
        return result.rowcount == 1


def _describe(exc: Exception, url: str, timeout: float) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer within {timeout:g} s ({type(exc).__name__})"
    # The URL may carry a partner's token in its query; the log must not repeat it.
    text = str(exc).replace(url, "<url>")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _send(http: httpx.Client, due: _Due, timeout: float) -> tuple[int | None, str | None]:
    """POST the delivery; (status code, None) when accepted, else (code or None, why)."""
    body = body_of(due.id, due.event, due.created_at, due.payload)
    headers = {
        "Content-Type": "application/json",
        signing.SIGNATURE_HEADER: signing.sign(due.secret, int(time.time()), body),
        signing.EVENT_HEADER: due.event,
        signing.DELIVERY_HEADER: str(due.id),
    }
    try:
        # Streamed and never read: only the status matters, whatever the receiver sends.
        with http.stream("POST", due.url, content=body, headers=headers) as response:
            code = response.status_code
    except Exception as exc:
        return None, _describe(exc, due.url, timeout)[:MAX_ERROR_CHARS]
    if 200 <= code < 300:
        return code, None
    if 300 <= code < 400:
        return code, f"the receiver answered {code}; redirects are not followed"
    return code, f"the receiver answered {code}"


def _record(
    db_engine: Engine,
    settings: Settings,
    due: _Due,
    at: datetime,
    status_code: int | None,
    error: str | None,
) -> None:
    attempts = due.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status_code": status_code,
        "last_error": error,
    }
    if error is None:
        values.update(status="delivered", delivered_at=at)
    else:
        give_up_at = due.created_at + timedelta(hours=settings.webhook_give_up_hours)
        if at >= give_up_at:
            values["status"] = "failed"
        else:
            values["next_attempt_at"] = min(at + backoff(settings, attempts), give_up_at)
    with db_engine.begin() as connection:
        connection.execute(
            update(WebhookDelivery)
            .where(col(WebhookDelivery.id) == due.id, col(WebhookDelivery.status) == "pending")
            .values(**values)
        )


def _attempt(
    db_engine: Engine,
    settings: Settings,
    http: httpx.Client,
    due: _Due,
    now: datetime | None,
    stopping: Callable[[], bool],
) -> bool:
    """Claim, send and record one delivery; False when another worker had claimed it
    (or the dispatcher is stopping: it stays due for the next start)."""
    if stopping() or not _claim(db_engine, due, (now or utcnow()) + _lease(settings)):
        return False
    status_code, error = _send(http, due, settings.webhook_timeout_seconds)
    if error is not None:
        log.info("webhook delivery %s failed: %s", due.id, error)
    _record(db_engine, settings, due, now or utcnow(), status_code, error)
    return True


def deliver_due(
    db_engine: Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = 50,
    stopping: Callable[[], bool] = lambda: False,
) -> int:
    """Send up to ``limit`` due deliveries, oldest first, several receivers at once;
    ``now`` replaces the clock (tests); once ``stopping()`` is true no more are begun.
    Returns how many were attempted."""
    due = _due(db_engine, now or utcnow(), limit)
    if not due:
        return 0
    with (
        httpx.Client(
            timeout=settings.webhook_timeout_seconds,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        ) as http,
        ThreadPoolExecutor(max_workers=min(MAX_PARALLEL_SENDS, len(due))) as pool,
    ):
        # Each row is the oldest pending one of its object, so sending them side by
        # side keeps every object's order.
        done = pool.map(lambda item: _attempt(db_engine, settings, http, item, now, stopping), due)
        return sum(done)


async def run_dispatcher(
    db_engine: Engine, settings: Settings, stop: asyncio.Event, interval: float = 0.5
) -> None:
    """Send due deliveries every ``interval`` seconds (at once while there are more)
    until ``stop`` is set, then finish only the sends under way; errors are logged and
    the loop goes on."""
    batch = 50
    while not stop.is_set():
        sent = 0
        try:
            sent = await asyncio.to_thread(
                deliver_due, db_engine, settings, limit=batch, stopping=stop.is_set
            )
        except Exception:
            log.exception("webhook delivery failed; will retry")
        if sent < batch:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)


def replay(session: Session, delivery: WebhookDelivery) -> WebhookDelivery:
    """A new pending delivery of the same event, object and payload (sent after any
    earlier pending one of that object)."""
    now = utcnow()
    again = WebhookDelivery(
        webhook_id=delivery.webhook_id,
        event=delivery.event,
        object_type=delivery.object_type,
        object_id=delivery.object_id,
        payload=dict(delivery.payload),
        next_attempt_at=now,
        created_at=now,
    )
    session.add(again)
    session.flush()
    return again
