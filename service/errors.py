"""The AppError family and the RFC 9457 problem+json handlers.

AppError(status, title, detail)
├── Unauthorized          401
├── Forbidden             403
├── NotFound              404
├── Conflict              409
├── PreconditionFailed    412
├── InvalidInput          422 (with field errors)
└── NotReady              503
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """An error the client can act on, rendered as problem details."""

    status = 500
    title = "Internal Server Error"

    def __init__(
        self,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if title is not None:
            self.title = title
        self.headers = headers
        self.extra = extra


class NotFound(AppError):
    status = 404
    title = "Not Found"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition Failed"


class PreconditionRequired(AppError):
    status = 428
    title = "Precondition Required"


class InvalidInput(AppError):
    status = 422
    title = "Unprocessable Content"

    @classmethod
    def at(cls, pointer: str, detail: str) -> InvalidInput:
        """An error about one body field, named by its JSON Pointer."""
        return cls(detail, errors=[{"pointer": pointer, "detail": detail}])


class Unauthorized(AppError):
    status = 401
    title = "Unauthorized"


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"


class NotReady(AppError):
    status = 503
    title = "Service Unavailable"


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response for ``request``; ``extra`` adds members to the body."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def send_problem(
    scope: Scope,
    send: Send,
    status: int,
    title: str,
    detail: str,
    headers: Iterable[tuple[str, str]] = (),
    **extra: Any,
) -> None:
    """Answer with problem+json from ASGI middleware (outside the exception handlers);
    ``extra`` adds members such as ``errors``."""
    body = json.dumps(
        {
            "type": "about:blank",
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", ""),
            **extra,
        }
    ).encode()
    raw_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


def field_error(location: tuple[Any, ...] | list[Any], message: str) -> dict[str, str]:
    """One entry of ``errors``: a JSON Pointer for body fields, else the parameter name."""
    where, *path = location
    if where == "body":
        pointer = "#/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in path)
        return {"pointer": pointer.rstrip("/") or "#", "detail": message}
    return {"parameter": ".".join(str(part) for part in path), "in": str(where), "detail": message}


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_response(
        request, exc.status, exc.title, exc.detail, headers=exc.headers, **exc.extra
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [field_error(tuple(err["loc"]), _clean(err["msg"])) for err in exc.errors()]
    count = len(errors)
    return problem_response(
        request,
        422,
        "Unprocessable Content",
        f"{count} invalid field{'s' if count != 1 else ''}",
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, "Error")
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = None if exc.headers is None else dict(exc.headers)
    return problem_response(request, exc.status_code, title, detail, headers=headers)


async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
    return problem_response(request, 500, "Internal Server Error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    """Render every error as problem+json."""
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
