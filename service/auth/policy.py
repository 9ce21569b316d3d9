"""What each endpoint needs: ``allow(...)`` names the roles besides admin.

Every ``/api/v1`` endpoint takes its caller from ``allow``; the roles it names
are published in the OpenAPI description as ``x-roles``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute

from service.auth.middleware import BEARER_HELP
from service.auth.principal import Principal, Role
from service.errors import Forbidden, Unauthorized


def caller(request: Request) -> Principal | None:
    """The principal the access middleware resolved (None: no key was sent)."""
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    return principal


class _Guard:
    """A dependency admitting admins and the given roles, returning the caller."""

    def __init__(self, roles: tuple[Role, ...], *, admin: bool = True) -> None:
        self.roles: tuple[Role, ...] = ("admin", *roles) if admin else roles

    def __call__(self, request: Request) -> Principal:
        principal = caller(request)
        if principal is None:
            raise Unauthorized(BEARER_HELP, headers={"WWW-Authenticate": "Bearer"})
        if principal.role not in self.roles:
            raise Forbidden(f"the {principal.role} role may not use this endpoint")
        return principal


def allow(*roles: Role) -> Any:
    """``Annotated`` metadata for the caller parameter of an endpoint open to ``roles``."""
    return Depends(_Guard(roles))


def only(*roles: Role) -> Any:
    """Like :func:`allow`, without admins (endpoints meant for one kind of client)."""
    return Depends(_Guard(roles, admin=False))


AdminCaller = Annotated[Principal, allow()]


def roles_of(route: APIRoute) -> tuple[Role, ...] | None:
    """The roles an endpoint admits, or None for a public one."""
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, _Guard):
            return dependency.call.roles
    return None


def document_roles(routers: Iterable[APIRouter], schema: dict[str, Any]) -> None:
    """Write ``x-roles`` and the 401/403/429 answers into each guarded operation."""
    problem = {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
    for route in (route for router in routers for route in router.routes):
        if not isinstance(route, APIRoute) or route.path not in schema["paths"]:
            continue
        roles = roles_of(route)
        if roles is None:
            continue
        for method in route.methods or ():
            operation = schema["paths"][route.path].get(method.lower())
            if operation is None:
                continue
            operation["x-roles"] = list(roles)
            responses = operation.setdefault("responses", {})
            responses.setdefault("401", {"description": "No key, or a wrong one", **problem})
            responses.setdefault("403", {"description": "The key's role may not", **problem})
            responses.setdefault("429", {"description": "Rate limit; see Retry-After", **problem})
