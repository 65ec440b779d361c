"""What an `Idempotency-Key` costs a write, and what a replay costs.

Starts its own nats-server, a database from the ladder and one membership process
(127.0.0.1, free ports, stopped at the end), then sends `--requests` community
creations with `--concurrency` in flight three times: without a key, each with a
key of its own, and the keyed ones again (every one a replay). Prints req/s and
p50/p99 latency for each, and the keyed run as a share of the unkeyed one.

    .venv/bin/python bench/idempotency_cost.py [--requests 400] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import orjson

from weft_cli import ladder
from weft_cli.natsserver import start_nats
from weft_cli.testing import ServiceLauncher
from weft_shared.auth import issue_dev_token
from weft_shared.settings import PlatformSettings


async def window(
    url: str, token: str, bodies: list[bytes], keys: list[str] | None, concurrency: int
) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(enumerate(bodies))
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def worker() -> None:
            while queue:
                index, body = queue.pop()
                headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
                if keys is not None:
                    headers["Idempotency-Key"] = keys[index]
                started = time.perf_counter()
                response = await http.post("/v1/communities", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, latencies, statuses


def row(label: str, rps: float, latencies: list[float], statuses: dict[int, int]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return (
        f"{label:<24} {rps:8.1f} req/s   p50 {1000 * statistics.median(ordered):7.1f} ms"
        f"   p99 {1000 * p99:7.1f} ms   statuses {statuses}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="weft-idem-bench-") as tmp:
        nats = start_nats(Path(tmp) / "nats")
        database = ladder.provide_database(Path(tmp) / "db", log=print)
        run = secrets.token_hex(3)
        launcher = ServiceLauncher(
            {
                "WEFT_ENV": "dev",
                "WEFT_NATS_URL": nats.url,
                "MONGODB_URL": database.url,
                "WEFT_MEMBERSHIP_DATABASE": f"weft_membership_bench_{run}",
                "WEFT_LOG_LEVEL": "WARNING",
            }
        )
        try:
            url = launcher.start("membership").url
            token = issue_dev_token(PlatformSettings(env="dev"), f"bench-{run}", ttl_seconds=3600)

            def bodies(label: str) -> list[bytes]:
                return [orjson.dumps({"name": f"{label} {i} {run}", "purpose": "bench"}) for i in range(args.requests)]

            await window(url, token, bodies("warm"), None, args.concurrency)
            plain = await window(url, token, bodies("plain"), None, args.concurrency)
            keyed_bodies, keys = bodies("keyed"), [secrets.token_hex(16) for _ in range(args.requests)]
            keyed = await window(url, token, keyed_bodies, keys, args.concurrency)
            replayed = await window(url, token, keyed_bodies, keys, args.concurrency)
            print(f"database: {database.description}; {args.requests} creates, {args.concurrency} in flight")
            print(row("without a key", *plain))
            print(row("with a key (first)", *keyed))
            print(row("with a key (replay)", *replayed))
            print(f"keyed first attempts: {100 * keyed[0] / plain[0]:.0f} % of unkeyed throughput")
        finally:
            launcher.stop_all()
            database.stop()
            nats.stop()


if __name__ == "__main__":
    asyncio.run(main())
