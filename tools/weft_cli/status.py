"""`weft status`: a running stack at a glance, for an operator.

Each service's `/readyz`, and per durable consumer of the stream: messages not yet
delivered (`num_pending`), delivered but not acknowledged, redelivered, the last
delivered stream sequence against the stream's last (the lag), and the dead-letter
depth. Non-zero exit when a service is not ready or NATS does not answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import nats
from nats.js.errors import NotFoundError

from weft_cli.operator_targets import connect_nats
from weft_shared.messaging.broker import DLQ_SUFFIX

Echo = Callable[[str], None]


async def _readiness(http: httpx.AsyncClient, name: str, url: str) -> dict[str, Any]:
    try:
        response = await http.get(f"{url}/readyz")
    except httpx.HTTPError as exc:
        return {"service": name, "url": url, "ready": False, "detail": f"unreachable ({type(exc).__name__})"}
    try:
        detail: Any = response.json()
    except ValueError:
        detail = response.text[:200]
    return {"service": name, "url": url, "ready": response.status_code == 200, "detail": detail}


async def _consumers(nats_url: str, stream: str) -> dict[str, Any]:
    nc = await connect_nats(nats_url, "weft-status")
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        last = info.state.last_seq
        try:
            dlq = (await js.stream_info(stream + DLQ_SUFFIX)).state.messages
        except NotFoundError:
            dlq = 0
        consumers = []
        for consumer in await js.consumers_info(stream):
            delivered = consumer.delivered.stream_seq if consumer.delivered else 0
            consumers.append(
                {
                    "durable": consumer.name,
                    "pending": consumer.num_pending or 0,
                    "ack_pending": consumer.num_ack_pending or 0,
                    "redelivered": consumer.num_redelivered or 0,
                    "last_delivered": delivered or 0,
                    # What it has still to take in: not yet delivered (of the subjects it filters on;
                    # the stream's last sequence counts messages a filtered durable never gets) plus
                    # delivered but not yet acknowledged.
                    "lag": (consumer.num_pending or 0) + (consumer.num_ack_pending or 0),
                }
            )
        return {
            "stream": stream,
            "last_seq": last,
            "messages": info.state.messages,
            "dead_letters": dlq,
            "consumers": sorted(consumers, key=lambda c: str(c["durable"])),
        }
    finally:
        await nc.close()


async def stack_status(nats_url: str, stream: str, services: dict[str, str]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=3) as http:
        readiness = await asyncio.gather(*(_readiness(http, name, url) for name, url in services.items()))
    try:
        bus: dict[str, Any] = await _consumers(nats_url, stream)
        bus["reachable"] = True
    except (nats.errors.NoServersError, OSError, TimeoutError, NotFoundError) as exc:
        bus = {"stream": stream, "reachable": False, "error": f"{type(exc).__name__}: {exc}", "consumers": []}
    ok = bus["reachable"] and all(r["ready"] for r in readiness)
    return {"ok": ok, "nats_url": nats_url, "services": list(readiness), "bus": bus}


def print_status(status: dict[str, Any], echo: Echo) -> None:
    echo(f"{'service':<14} {'ready':<6} url")
    for row in status["services"]:
        detail = row["detail"] if isinstance(row["detail"], str) else row["detail"].get("status", "")
        echo(f"{row['service']:<14} {'yes' if row['ready'] else 'NO':<6} {row['url']}  {detail}")
    bus = status["bus"]
    echo("")
    if not bus["reachable"]:
        echo(f"NATS at {status['nats_url']}: NOT reachable ({bus['error']})")
        return
    echo(
        f"stream {bus['stream']}: last seq {bus['last_seq']}, {bus['messages']} message(s); "
        f"dead letters: {bus['dead_letters']}"
    )
    echo(f"{'consumer':<22} {'pending':>8} {'ack pend':>8} {'redeliv':>8} {'delivered':>10} {'lag':>6}")
    for c in bus["consumers"]:
        echo(
            f"{c['durable']:<22} {c['pending']:>8} {c['ack_pending']:>8} {c['redelivered']:>8} "
            f"{c['last_delivered']:>10} {c['lag']:>6}"
        )
