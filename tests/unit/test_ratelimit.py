"""The token bucket: a minute's budget in a burst, refilled evenly, per caller."""

from __future__ import annotations

import pytest

from service.auth.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_then_one_request_per_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert [limiter.take("a", 60) for _ in range(60)] == [0.0] * 60
    wait = limiter.take("a", 60)
    assert wait == pytest.approx(1.0)
    assert RateLimiter.retry_after(wait) == "1"
    clock.now += 0.5
    assert limiter.take("a", 60) == pytest.approx(0.5)  # a refused request costs nothing
    clock.now += 0.5
    assert limiter.take("a", 60) == 0.0
    assert limiter.take("b", 60) == 0.0  # another caller has its own bucket


def test_the_budget_never_exceeds_a_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    limiter.take("a", 3)
    clock.now += 3600
    assert [limiter.take("a", 3) == 0.0 for _ in range(4)] == [True, True, True, False]
    assert RateLimiter.retry_after(limiter.take("a", 3)) == "20"
