"""Finds the caller of a request from its key, with a short cache shared per process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from service.auth import keys
from service.auth.principal import Principal
from service.auth.ratelimit import RateLimiter
from service.config import Settings
from service.models import ApiKey, utcnow

CACHE_SECONDS = 5.0  # a key revoked by another worker stops working within this time
LAST_USED_EVERY_SECONDS = 60.0  # last_used_at is written at most this often per key
T = TypeVar("T")


@dataclass
class KeyResolver:
    """Key lookups, the open-mode check and the rate limiter of one app."""

    settings: Settings
    limiter: RateLimiter = field(init=False)
    _cache: dict[str, tuple[Principal, float]] = field(default_factory=dict)
    _flags: dict[str, tuple[Any, float]] = field(default_factory=dict)
    _last_used: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.settings.rate_limit_storage)

    def invalidate(self) -> None:
        """Forget cached lookups (after a key is created or revoked here)."""
        with self._lock:
            self._cache.clear()
            self._flags.clear()

    def resolve(self, db_engine: Engine, key: str) -> Principal | None:
        """The principal of an active key, or None."""
        key_digest = keys.digest(key)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_digest)
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            principal = cached[0]
        else:
            with Session(db_engine) as session:
                row = keys.verify(session, key)
                if row is None:
                    return None
                principal = keys.principal_of(row)
            with self._lock:
                if len(self._cache) > 10_000:
                    self._cache.clear()
                self._cache[key_digest] = (principal, now)
        self._touch(db_engine, principal, now)
        return principal

    def _touch(self, db_engine: Engine, principal: Principal, now: float) -> None:
        assert principal.key_id is not None
        with self._lock:
            if now - self._last_used.get(principal.key_id, -LAST_USED_EVERY_SECONDS) < (
                LAST_USED_EVERY_SECONDS
            ):
                return
            self._last_used[principal.key_id] = now
        with Session(db_engine) as session:
            row = session.get(ApiKey, principal.key_id)
            if row is not None:
                row.last_used_at = utcnow()
                session.add(row)
                session.commit()

    def open_mode(self, db_engine: Engine) -> bool:
        """True until the first key is made: the local-only mode of a fresh install
        (revoking every key later does not reopen it)."""
        return not self._flag("any_key", db_engine, keys.any_key_made)

    def widget_origins(self, db_engine: Engine) -> frozenset[str]:
        """Origins any widget key allows."""
        return self._flag("origins", db_engine, keys.widget_origins)

    def _flag(self, name: str, db_engine: Engine, read: Callable[[Session], T]) -> T:
        now = time.monotonic()
        with self._lock:
            cached = self._flags.get(name)
        if cached is not None and now - cached[1] < CACHE_SECONDS:
            value: T = cached[0]
            return value
        with Session(db_engine) as session:
            value = read(session)
        with self._lock:
            self._flags[name] = (value, now)
        return value

    def per_minute(self, principal: Principal) -> int:
        """The rate limit of a caller."""
        if principal.rate_limit_per_minute is not None:
            return principal.rate_limit_per_minute
        if principal.role == "widget":
            return self.settings.widget_rate_limit_per_minute
        return self.settings.rate_limit_per_minute
