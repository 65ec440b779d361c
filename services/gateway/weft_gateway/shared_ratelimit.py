"""Rate limits shared by every gateway replica, kept in a JetStream key-value bucket.

Each caller has one bucket, stored as its GCRA "theoretical arrival time" (TAT): the wall-clock
time at which the bucket would be full again. Taking tokens is a compare-and-set of that entry,
so N replicas together admit what one replica would, not N times as much.

A round trip per request would halve the gateway's throughput, so a replica *leases* tokens:
it takes a few at once and spends them locally for a moment. A lease left unspent when it
expires is forfeited, which can only admit less, never more; and the lease size adapts per
caller (1 for an occasional caller, doubling while leases are used up, halving when they
expire unused), so callers who hop between replicas lose almost nothing.

A refusal is remembered locally until the bucket could next admit, so a caller hammering a
replica costs no round trips. When the bucket cannot be reached, a replica falls back to its
own in-memory limiter for a few seconds (N replicas then allow up to N times the rate), and
logs that it did. Keys are hashes: the bucket never holds a subject or an address.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError
from nats.js.api import KeyValueConfig
from nats.js.errors import BadRequestError, KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from weft_gateway.ratelimit import RateLimiter

log = logging.getLogger("weft.gateway.ratelimit")

# How long one KV round trip may take before this replica limits on its own for a while.
_ROUND_TRIP_TIMEOUT = 0.5
_DEGRADED_SECONDS = 5.0
_CONNECT_RETRY_SECONDS = 5.0
# Compare-and-set attempts before giving up on a very contended bucket (then: local limiter).
_CAS_ATTEMPTS = 8


@dataclass(slots=True)
class _Lease:
    tokens: int
    until: float  # monotonic: when unspent tokens are forfeited
    size: int  # how many to ask for next time
    retry_at: float = 0.0  # monotonic: while refused, when the bucket next admits one


class SharedRateLimiter:
    def __init__(
        self,
        *,
        per_minute: float,
        burst: int,
        bucket: str,
        local: RateLimiter,
        lease_tokens: int = 8,
        lease_seconds: float = 1.0,
        max_keys: int = 100_000,
        replicas: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.enabled = per_minute > 0
        self.bucket = bucket
        self.local = local
        self._interval = 60.0 / per_minute if self.enabled else 0.0
        self._burst = burst
        self._max_lease = max(1, min(lease_tokens, burst))
        self._lease_seconds = lease_seconds
        self._max_keys = max_keys
        self._clock = clock
        self._replicas = replicas
        self._leases: dict[str, _Lease] = {}
        self._asking: dict[str, asyncio.Future[None]] = {}
        self._nc: NatsClient | None = None
        self._kv: KeyValue | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._degraded_until = 0.0

    @property
    def shared(self) -> bool:
        """True while limits are kept in the shared bucket (false: this replica's own)."""
        return self._kv is not None and time.monotonic() >= self._degraded_until

    def start(self, nats_servers: list[str]) -> None:
        """Connect in the background; until then (and whenever NATS is away) limits are local."""
        if self.enabled and self._connecting is None:
            self._connecting = asyncio.create_task(self._connect(nats_servers), name="ratelimit-connect")

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._nc is not None:
            with contextlib.suppress(NatsError, OSError):
                await self._nc.close()
        self._kv = None

    async def take(self, key: str) -> float | None:
        """Spend one token for `key`; None if allowed, else the seconds until one is back."""
        if not self.enabled:
            return None
        if not self.shared:
            return self.local.take(key)
        while True:
            now = time.monotonic()
            lease = self._leases.get(key)
            if lease is not None and now < lease.until:
                if lease.tokens > 0:
                    lease.tokens -= 1
                    if lease.tokens == 0:
                        lease.size = min(self._max_lease, lease.size * 2)
                    return None
                if now < lease.retry_at:
                    return lease.retry_at - now
            asking = self._asking.get(key)
            if asking is None:
                break
            # Another request of this caller is at the bucket: wait for its lease, then look again
            # (one round trip per caller at a time, and no lease overwritten and lost).
            await asyncio.shield(asking)
        asking = asyncio.get_running_loop().create_future()
        self._asking[key] = asking
        try:
            return await self._lease(key, lease, now)
        finally:
            del self._asking[key]
            asking.set_result(None)

    async def _lease(self, key: str, lease: _Lease | None, now: float) -> float | None:
        size = 1 if lease is None else _next_size(lease, now)
        try:
            granted, wait = await asyncio.wait_for(self._acquire(_bucket_key(key), size), _ROUND_TRIP_TIMEOUT)
        except (NatsError, TimeoutError, OSError, ValueError) as exc:
            self._degrade(exc)
            return self.local.take(key)
        if granted is None:
            log.warning("rate limit bucket too contended for one caller; limiting locally this time")
            return self.local.take(key)
        self._remember(key, granted, wait, size, now)
        return None if granted else wait

    async def _acquire(self, key: str, want: int) -> tuple[int | None, float]:
        """Take up to `want` tokens: (granted, 0), or (0, seconds to wait); None when CAS kept losing."""
        kv = self._kv
        assert kv is not None
        for _ in range(_CAS_ATTEMPTS):
            revision: int | None
            try:
                entry = await kv.get(key)
                tat = float(entry.value or b"0")
                revision = entry.revision
            except (KeyNotFoundError, KeyDeletedError):
                tat, revision = 0.0, None
            now = self._clock()
            base = max(tat, now)
            available = math.floor((now + self._burst * self._interval - base) / self._interval + 1e-9)
            if available < 1:
                return 0, base - now - (self._burst - 1) * self._interval
            take = min(want, available)
            value = repr(base + take * self._interval).encode()
            try:
                if revision is None:
                    await kv.create(key, value)
                else:
                    await kv.update(key, value, last=revision)
            except KeyWrongLastSequenceError:
                continue  # another replica took from this bucket first: read it again
            return take, 0.0
        return None, 0.0

    def _remember(self, key: str, granted: int, wait: float, size: int, now: float) -> None:
        if key not in self._leases and len(self._leases) >= self._max_keys:
            self._prune(now)
        if granted:
            # One of the granted tokens is this request's; a lease used up at once asks for more.
            left = granted - 1
            next_size = min(self._max_lease, size * 2) if left == 0 else size
            self._leases[key] = _Lease(tokens=left, until=now + self._lease_seconds, size=next_size)
        else:
            self._leases[key] = _Lease(tokens=0, until=now + wait, size=1, retry_at=now + wait)

    def _prune(self, now: float) -> None:
        expired = [k for k, lease in self._leases.items() if now >= lease.until]
        for k in expired:
            del self._leases[k]
        if len(self._leases) >= self._max_keys:
            self._leases.clear()  # still too many active callers: forget rather than grow

    def _degrade(self, exc: BaseException) -> None:
        if time.monotonic() >= self._degraded_until:
            log.warning(
                "rate limit bucket %s unreachable (%s); this replica limits on its own for %.0f s",
                self.bucket,
                type(exc).__name__,
                _DEGRADED_SECONDS,
            )
        self._degraded_until = time.monotonic() + _DEGRADED_SECONDS

    async def _connect(self, nats_servers: list[str]) -> None:
        while True:
            try:
                nc = await nats.connect(
                    nats_servers, connect_timeout=2, max_reconnect_attempts=-1, name="weft-gateway-ratelimit"
                )
            except (NatsError, OSError, TimeoutError) as exc:
                log.warning("rate limits are per replica until NATS answers at %s (%s)", ",".join(nats_servers), exc)
                await asyncio.sleep(_CONNECT_RETRY_SECONDS)
                continue
            try:
                self._kv = await self._open_bucket(nc)
            except (NatsError, OSError, TimeoutError) as exc:
                log.warning("rate limit bucket %s could not be opened (%s); retrying", self.bucket, exc)
                await nc.close()
                await asyncio.sleep(_CONNECT_RETRY_SECONDS)
                continue
            self._nc = nc
            log.info("rate limits are shared through the JetStream bucket %s", self.bucket)
            return

    async def _open_bucket(self, nc: NatsClient) -> KeyValue:
        js = nc.jetstream()
        # An idle caller's entry may vanish once its bucket would be full again anyway.
        ttl = max(3600.0, 2 * self._burst * self._interval)
        try:
            return await js.create_key_value(
                KeyValueConfig(bucket=self.bucket, history=1, ttl=ttl, replicas=self._replicas)
            )
        except BadRequestError:
            # It exists with other settings (another replica's older limits): use it as it is.
            return await js.key_value(self.bucket)


def _next_size(lease: _Lease, now: float) -> int:
    # An expired lease with tokens left means this caller asks for more than it spends here.
    if now >= lease.until and lease.tokens > 0:
        return max(1, lease.size // 2)
    return lease.size


def _bucket_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]
