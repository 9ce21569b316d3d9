"""ASGI middleware refusing request bodies over a size limit with 413."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import send_problem


class BodySizeLimit:
    """Reject bodies over ``max_bytes`` (or a path's own limit in ``overrides``): by
    Content-Length before reading, or, for a body sent without one (chunked), by reading
    it first (it is at most the limit)."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = overrides or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.overrides.get(scope["path"], self.max_bytes)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if length.isdigit() and int(length) > limit:
                await self._reject(scope, send, limit)
                return
            await self.app(scope, receive, send)  # the server holds the body to its length
            return
        chunks: list[bytes] = []
        received = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            received += len(chunks[-1])
            if received > limit:
                await self._reject(scope, send, limit)
                return
            more = message.get("more_body", False)
        await self.app(scope, _replaying(b"".join(chunks), receive), send)

    async def _reject(self, scope: Scope, send: Send, limit: int) -> None:
        await send_problem(
            scope,
            send,
            413,
            "Content Too Large",
            f"the request body is over the limit of {limit} bytes",
            [("connection", "close")],
        )


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then waits as before."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
