"""Who is asking: the resolved API key, and what its role and regions allow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "advisor", "integration", "widget"]
ROLES: tuple[Role, ...] = ("admin", "advisor", "integration", "widget")


@dataclass(frozen=True)
class Principal:
    """The caller of one request (an API key, the command line or the local open mode)."""

    key_id: int | None
    name: str
    role: Role
    regions: frozenset[str] = frozenset()
    allowed_origins: frozenset[str] = frozenset()
    rate_limit_per_minute: int | None = None

    @property
    def is_admin(self) -> bool:
        """Admins see and change everything."""
        return self.role == "admin"

    def covers_region(self, region: str | None) -> bool:
        """True when this caller may work on objects of ``region``."""
        return self.is_admin or (self.role == "advisor" and region in self.regions)

    def created(self, created_by_key_id: int | None) -> bool:
        """True when the object was made with this very key."""
        return self.key_id is not None and created_by_key_id == self.key_id

    @property
    def scope(self) -> str:
        """A stable label for per-caller records (idempotency, rate limits)."""
        return "local" if self.key_id is None else f"key:{self.key_id}"


LOCAL_ADMIN = Principal(key_id=None, name="local", role="admin")
COMMAND_LINE = Principal(key_id=None, name="command line", role="admin")
