"""HTTP routes for webhooks and their delivery log.

Integration keys manage the webhooks they registered (others' are 404 to them);
admins see and manage all.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response, status
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from schemas.common import Page, problem_responses
from schemas.limits import DEFAULT_PAGE_SIZE, MAX_ID, MAX_PAGE_SIZE
from schemas.webhooks import (
    MAX_WEBHOOKS_PER_KEY,
    DeliveryRead,
    DeliveryStatus,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
)
from service import audit
from service.auth.policy import allow
from service.auth.principal import Principal
from service.db import SessionDep
from service.errors import Conflict, InvalidInput, NotFound
from service.http import decode_cursor, encode_cursor
from service.models import Webhook, WebhookDelivery
from service.webhooks import delivery, signing

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

WebhookId = Annotated[int, Path(ge=1, le=MAX_ID, description="Webhook id")]
DeliveryId = Annotated[int, Path(ge=1, le=MAX_ID, description="Delivery id")]
Partner = Annotated[Principal, allow("integration")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _not_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def _refuse_private_url(url: str) -> None:
    """422 unless every address the URL's host resolves to is public."""
    host = urlsplit(url).hostname or ""
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise InvalidInput.at("#/url", f"the host {host!r} does not resolve") from exc
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if _not_public(address):
            raise InvalidInput.at(
                "#/url",
                f"the host {host!r} is a loopback, private, link-local or reserved address; "
                "webhooks must reach a public one",
            )


def _webhook(session: Session, principal: Principal, webhook_id: int) -> Webhook:
    """The webhook, if the caller registered it (admins: any), else 404."""
    found = session.get(Webhook, webhook_id)
    if found is None or not (principal.is_admin or principal.created(found.key_id)):
        raise NotFound(f"webhook {webhook_id} does not exist")
    return found


def _read(hook: Webhook) -> WebhookRead:
    return WebhookRead.model_validate(hook, from_attributes=True)


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
    responses=problem_responses(409, 413, 422),
    summary="Register a webhook",
)
def create_webhook(
    body: WebhookCreate,
    session: SessionDep,
    principal: Partner,
    request: Request,
    response: Response,
) -> WebhookCreated:
    """The answer carries the signing `secret`: this is the only time it is shown.
    `match.created` is sent for match runs involving profiles of organisations this key
    registered, `opportunity.status_changed` for opportunities with such organisations
    (an admin's webhooks get every event). The URL must reach a public address; a key may
    register up to 20 webhooks (409 beyond).

    Each delivery is a POST of a JSON body `{"id", "event", "created_at", "data"}` with
    the headers `X-Partnermatch-Event` (the event), `X-Partnermatch-Delivery` (the
    delivery id, the same on retries: use it to drop duplicates) and
    `X-Partnermatch-Signature: t=<unix seconds>,v1=<hex>`, where `<hex>` is the
    HMAC-SHA256, keyed with the secret, of the timestamp, a full stop and the raw body
    (`"<t>." + body`). Recompute it over the bytes received, compare in constant time,
    and refuse timestamps more than 5 minutes from your clock.

    Answer 2xx within the timeout (5 s by default) to accept a delivery. Anything else is
    retried with exponential backoff (doubling, at most an hour apart) for 24 hours; then
    the delivery is marked failed, and it can be replayed from the delivery log. Events
    about one object (one opportunity, one match run) arrive in order: a later one waits
    until the earlier one is accepted or given up.
    """
    if not request.app.state.settings.webhook_allow_private_urls:
        _refuse_private_url(body.url)
    count = session.exec(
        select(func.count()).select_from(Webhook).where(Webhook.key_id == principal.key_id)
    ).one()
    if count >= MAX_WEBHOOKS_PER_KEY:
        raise Conflict(f"a key may register at most {MAX_WEBHOOKS_PER_KEY} webhooks")
    hook = Webhook(
        key_id=principal.key_id,
        url=body.url,
        events=list(body.events),
        secret=signing.new_secret(),
    )
    session.add(hook)
    session.flush()
    assert hook.id is not None
    audit.record(session, "create", "webhook", hook.id, ["events", "url"])
    response.headers["Location"] = f"/api/v1/webhooks/{hook.id}"
    return WebhookCreated.model_validate(hook, from_attributes=True)


@router.get(
    "/webhooks",
    response_model=Page[WebhookRead],
    responses=problem_responses(422),
    summary="List webhooks",
)
def list_webhooks(
    session: SessionDep,
    principal: Partner,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[WebhookRead]:
    """The webhooks this key registered (an admin: all), oldest first; never the secret."""
    statement = select(Webhook).where(col(Webhook.id) > decode_cursor(cursor))
    if not principal.is_admin:
        statement = statement.where(Webhook.key_id == principal.key_id)
    rows = list(session.exec(statement.order_by(col(Webhook.id)).limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit and page and page[-1].id
    return Page(
        items=[_read(row) for row in page],
        next_cursor=encode_cursor(page[-1].id or 0) if more else None,
    )


@router.get(
    "/webhooks/{webhook_id}",
    response_model=WebhookRead,
    responses=problem_responses(404),
    summary="Read a webhook",
)
def read_webhook(webhook_id: WebhookId, session: SessionDep, principal: Partner) -> WebhookRead:
    """One webhook; never its secret."""
    return _read(_webhook(session, principal, webhook_id))


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404),
    summary="Delete a webhook",
)
def delete_webhook(webhook_id: WebhookId, session: SessionDep, principal: Partner) -> Response:
    """Nothing more is sent to it; pending deliveries and the delivery log go with it."""
    hook = _webhook(session, principal, webhook_id)
    session.execute(delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id))
    session.delete(hook)
    audit.record(session, "delete", "webhook", webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    response_model=Page[DeliveryRead],
    responses=problem_responses(404, 422),
    summary="The delivery log of a webhook",
)
def list_deliveries(
    webhook_id: WebhookId,
    session: SessionDep,
    principal: Partner,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    limit: Limit = DEFAULT_PAGE_SIZE,
    cursor: Cursor = None,
) -> Page[DeliveryRead]:
    """Every event sent or to be sent, newest first: attempts, the receiver's last status
    code or error, when it is tried next or was delivered."""
    hook = _webhook(session, principal, webhook_id)
    statement = select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
    if status_ is not None:
        statement = statement.where(WebhookDelivery.status == status_)
    if before := decode_cursor(cursor):
        statement = statement.where(col(WebhookDelivery.id) < before)
    rows = list(session.exec(statement.order_by(col(WebhookDelivery.id).desc()).limit(limit + 1)))
    page = rows[:limit]
    more = len(rows) > limit and page and page[-1].id
    return Page(
        items=[DeliveryRead.model_validate(row, from_attributes=True) for row in page],
        next_cursor=encode_cursor(page[-1].id or 0) if more else None,
    )


@router.post(
    "/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_201_CREATED,
    response_model=DeliveryRead,
    responses=problem_responses(404),
    summary="Send a delivery again",
)
def replay_delivery(
    webhook_id: WebhookId, delivery_id: DeliveryId, session: SessionDep, principal: Partner
) -> DeliveryRead:
    """A new delivery (new id, fresh 24 hours of retries) of the same event, object and
    data, sent shortly; after any earlier pending event of the same object."""
    hook = _webhook(session, principal, webhook_id)
    original = session.get(WebhookDelivery, delivery_id)
    if original is None or original.webhook_id != hook.id:
        raise NotFound(f"delivery {delivery_id} of webhook {webhook_id} does not exist")
    again = delivery.replay(session, original)
    audit.record(session, "replay", "webhook_delivery", again.id)
    return DeliveryRead.model_validate(again, from_attributes=True)
