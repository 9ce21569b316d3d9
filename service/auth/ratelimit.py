"""Per-caller rate limits: at most N requests in any 60 seconds (a moving window).

Counts live in the storage the ``limits`` library names by URI: ``memory://``
(each process counts its own) or a shared one such as ``redis://host:6379``
(every worker counts together).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute, storage, strategies


class RateLimiter:
    """``per_minute`` requests per caller in any minute."""

    def __init__(self, storage_uri: str = "memory://") -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))

    def take(self, caller: str, per_minute: int) -> float:
        """Spend one request of ``caller``: 0 when allowed, else the seconds to wait."""
        item = RateLimitItemPerMinute(per_minute)
        if self._limiter.hit(item, caller):
            return 0.0
        reset = self._limiter.get_window_stats(item, caller).reset_time
        return max(reset - time.time(), 0.001)

    @staticmethod
    def retry_after(wait_seconds: float) -> str:
        """The ``Retry-After`` header value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait_seconds)))
