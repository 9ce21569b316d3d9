"""Rate limits: at most N requests in any minute, per caller, with the wait to the next."""

from __future__ import annotations

from service.auth.ratelimit import RateLimiter


def test_the_limit_holds_per_caller_and_says_how_long_to_wait() -> None:
    limiter = RateLimiter()
    assert [limiter.take("a", 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.take("a", 3)
    assert 59 < wait <= 60  # the oldest of the three leaves the window in a minute
    assert RateLimiter.retry_after(wait) == "60"
    assert limiter.take("b", 3) == 0.0  # another caller has its own count


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert RateLimiter.retry_after(0.001) == "1"
    assert RateLimiter.retry_after(1.2) == "2"
