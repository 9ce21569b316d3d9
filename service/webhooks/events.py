"""Emitting events: one pending delivery per subscribed webhook, in the caller's transaction.

Nothing is sent here: the rows commit (or roll back) with the change that made
the event, and the dispatcher in ``delivery`` sends them later, so a slow or
dead receiver never slows a request.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from schemas.webhooks import WebhookEvent
from service.models import ApiKey, Webhook, WebhookDelivery, utcnow


def subscribers(
    session: Session, event: WebhookEvent, owner_key_ids: Collection[int]
) -> list[Webhook]:
    """Active webhooks for ``event`` registered by one of ``owner_key_ids`` or by an
    admin, whose key still works."""
    now = utcnow()
    statement = (
        select(Webhook)
        .outerjoin(ApiKey, col(ApiKey.id) == col(Webhook.key_id))
        .where(
            col(Webhook.active).is_(True),
            or_(
                # Registered without a key: from the command line or the local open mode.
                col(Webhook.key_id).is_(None),
                and_(
                    col(ApiKey.revoked_at).is_(None),
                    or_(col(ApiKey.expires_at).is_(None), col(ApiKey.expires_at) > now),
                    or_(col(ApiKey.id).in_(list(owner_key_ids)), col(ApiKey.role) == "admin"),
                ),
            ),
        )
        .order_by(col(Webhook.id))
    )
    return [hook for hook in session.exec(statement) if event in hook.events]


def emit(
    session: Session,
    event: WebhookEvent,
    object_type: str,
    object_id: int,
    payload: dict[str, Any],
    owner_key_ids: Collection[int],
) -> int:
    """Queue ``event`` about (``object_type``, ``object_id``) for every subscriber;
    ``payload`` (JSON-ready) becomes the body's ``data``. Returns how many were queued."""
    hooks = subscribers(session, event, owner_key_ids)
    now = utcnow()
    for hook in hooks:
        assert hook.id is not None
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event=event,
                object_type=object_type,
                object_id=object_id,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(hooks)
