"""Token buckets, driven by an explicit clock."""

from __future__ import annotations

from weft_gateway.ratelimit import RateLimiter, retry_after_header


def test_burst_then_refill_at_the_configured_rate() -> None:
    limiter = RateLimiter(per_minute=60, burst=3)  # one token per second
    assert [limiter.take("alice", now=100.0) for _ in range(3)] == [None, None, None]
    wait = limiter.take("alice", now=100.0)
    assert wait is not None and 0.99 < wait <= 1.0
    assert limiter.take("alice", now=101.0) is None  # one token came back
    assert limiter.take("alice", now=101.0) is not None


def test_keys_have_separate_buckets() -> None:
    limiter = RateLimiter(per_minute=60, burst=1)
    assert limiter.take("alice", now=0.0) is None
    assert limiter.take("alice", now=0.0) is not None
    assert limiter.take("bob", now=0.0) is None


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    limiter = RateLimiter(per_minute=60, burst=2)
    limiter.take("alice", now=0.0)
    # An hour idle refills to the burst, not to 3600 tokens.
    assert [limiter.take("alice", now=3600.0) is None for _ in range(3)] == [True, True, False]


def test_zero_rate_disables_limiting() -> None:
    limiter = RateLimiter(per_minute=0, burst=1)
    assert all(limiter.take("alice", now=0.0) is None for _ in range(100))


def test_memory_is_bounded_by_forgetting_refilled_buckets() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, max_keys=10)
    for i in range(10):
        limiter.take(f"ip:{i}", now=0.0)
    limiter.take("late", now=5.0)  # the others have refilled by now, so they are dropped
    assert limiter.take("ip:0", now=5.0) is None
    assert limiter.take("late", now=5.0) is not None


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert retry_after_header(0.01) == "1"
    assert retry_after_header(1.2) == "2"
    assert retry_after_header(30.0) == "30"
