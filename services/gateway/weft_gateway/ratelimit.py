"""In-memory token buckets, one per caller key (a token's subject or a client address).

This process's own limits: used when the gateway runs alone (`WEFT_GATEWAY_RATE_LIMIT_SHARED=false`)
and as the fallback while the shared bucket (`shared_ratelimit.py`) cannot be reached.
"""

from __future__ import annotations

import math
import time


class RateLimiter:
    def __init__(self, *, per_minute: float, burst: int, max_keys: int = 100_000) -> None:
        self.enabled = per_minute > 0
        self._rate = per_minute / 60.0  # tokens per second
        self._burst = float(burst)
        self._max_keys = max_keys
        # key -> [tokens left, monotonic time of the last update]; a list so it updates in place.
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str, now: float | None = None) -> float | None:
        """Spend one token for `key`; None if allowed, else the seconds until a token is back."""
        if not self.enabled:
            return None
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._prune(now)
            self._buckets[key] = [self._burst - 1.0, now]
            return None
        tokens = min(self._burst, bucket[0] + (now - bucket[1]) * self._rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return None
        bucket[0] = tokens
        return (1.0 - tokens) / self._rate

    def _prune(self, now: float) -> None:
        # A bucket that has refilled is indistinguishable from a new one, so forgetting it is free.
        full = [k for k, (tokens, ts) in self._buckets.items() if tokens + (now - ts) * self._rate >= self._burst]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= self._max_keys:
            # Still too many active callers: forget everyone rather than grow without bound.
            self._buckets.clear()


def retry_after_header(seconds: float) -> str:
    # Retry-After takes whole seconds; round up so a client that obeys it gets through.
    return str(max(1, math.ceil(seconds)))
