"""ASGI middleware: who is calling (Bearer key), rate limits, and CORS for widget keys.

Runs before routing, so a bad key or an exhausted budget costs no database
session and no handler. Endpoints then check the caller's role themselves
(``service.auth.policy``).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth.principal import LOCAL_ADMIN, Principal
from service.auth.resolver import KeyResolver
from service.errors import Forbidden, TooManyRequests, Unauthorized, send_problem

MAX_KEY_CHARS = 256
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
CORS_METHODS = "GET, POST, PATCH, DELETE"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match"
CORS_EXPOSED = "Location, ETag, Retry-After"
BEARER_HELP = "send the API key as 'Authorization: Bearer <key>'"


def bearer_token(value: str) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None if malformed."""
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_KEY_CHARS:
        return None
    if not token.isascii() or not token.isprintable() or " " in token:
        return None
    return token


def is_loopback(scope: Scope) -> bool:
    """True for a client on this machine."""
    client = scope.get("client")
    if not client:
        return False
    return client[0] in LOOPBACK or str(client[0]).startswith("127.")


class AccessControl:
    """Resolve ``scope['state']['principal']`` (None: anonymous) or answer 401/403/429."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        resolver: KeyResolver = state.key_resolver
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if scope["method"] == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(scope, send, resolver, origin)
            return
        # A widget's page must be able to read its 401 and 429 (and Retry-After) too.
        refusals = send
        if origin and origin in await anyio.to_thread.run_sync(
            resolver.widget_origins, state.db_engine
        ):
            refusals = _with_cors(send, origin)
        principal: Principal | None = None
        authorization = headers.get("authorization")
        if authorization is not None:
            token = bearer_token(authorization)
            if token is not None:
                principal = await anyio.to_thread.run_sync(resolver.resolve, state.db_engine, token)
            if principal is None:
                await self._refuse_key(scope, refusals, resolver, token is None)
                return
        elif is_loopback(scope) and await anyio.to_thread.run_sync(
            resolver.open_mode, state.db_engine
        ):
            principal = LOCAL_ADMIN
        if principal is not None:
            wait = resolver.limiter.take(principal.scope, resolver.per_minute(principal))
            if wait > 0:
                await send_problem(
                    scope,
                    refusals,
                    429,
                    TooManyRequests.title,
                    f"this key may make {resolver.per_minute(principal)} requests a minute",
                    [("retry-after", resolver.limiter.retry_after(wait))],
                )
                return
        scope.setdefault("state", {})["principal"] = principal
        if origin and principal is not None and principal.role == "widget":
            if origin not in principal.allowed_origins:
                await send_problem(
                    scope, send, 403, Forbidden.title, "this key is not allowed on this origin"
                )
                return
            send = _with_cors(send, origin)
        await self.app(scope, receive, send)

    async def _refuse_key(
        self, scope: Scope, send: Send, resolver: KeyResolver, malformed: bool
    ) -> None:
        client = scope.get("client")
        address = f"address:{client[0] if client else '-'}"
        wait = resolver.limiter.take(address, resolver.settings.failed_auth_per_minute)
        if wait > 0:
            await send_problem(
                scope,
                send,
                429,
                TooManyRequests.title,
                "too many requests with a wrong key from this address",
                [("retry-after", resolver.limiter.retry_after(wait))],
            )
            return
        detail = BEARER_HELP if malformed else "the API key is unknown, revoked or expired"
        await send_problem(
            scope, send, 401, Unauthorized.title, detail, [("www-authenticate", "Bearer")]
        )

    async def _preflight(
        self, scope: Scope, send: Send, resolver: KeyResolver, origin: str
    ) -> None:
        allowed = await anyio.to_thread.run_sync(
            resolver.widget_origins, scope["app"].state.db_engine
        )
        if origin not in allowed:
            await send_problem(
                scope, send, 403, Forbidden.title, "cross-origin requests are not allowed from here"
            )
            return
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    *_cors_headers(origin),
                    (b"access-control-allow-methods", CORS_METHODS.encode()),
                    (b"access-control-allow-headers", CORS_HEADERS.encode()),
                    (b"access-control-max-age", b"600"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _cors_headers(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"vary", b"Origin"),
    ]


def _with_cors(send: Send, origin: str) -> Send:
    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [
                    *message.get("headers", []),
                    *_cors_headers(origin),
                    (b"access-control-expose-headers", CORS_EXPOSED.encode()),
                ],
            }
        await send(message)

    return send_with_cors
