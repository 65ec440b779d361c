"""Reading what landed on the bus, for assertions: straight from the JetStream stream."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import nats
import orjson
from nats.js.api import DeliverPolicy

from weft_shared.contracts.subjects import community_wildcard


@dataclass
class BusMessage:
    subject: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes

    @property
    def type(self) -> str:
        return str(self.body["type"])


async def stream_messages(nats_url: str, subject: str, *, stream: str = "WEFT") -> list[BusMessage]:
    """Every message currently stored in the stream under `subject` (wildcards allowed)."""
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        sub = await js.subscribe(
            subject,
            stream=stream,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        out: list[BusMessage] = []
        try:
            while True:
                try:
                    msg = await sub.next_msg(timeout=0.5)
                except (TimeoutError, nats.errors.TimeoutError):
                    break
                out.append(
                    BusMessage(
                        msg.subject,
                        dict(msg.headers or {}),
                        orjson.loads(msg.data),
                        msg.data,
                    )
                )
                if msg.metadata.num_pending == 0:
                    break
        finally:
            await sub.unsubscribe()
        return out
    finally:
        await nc.close()


async def community_messages(nats_url: str, community_id: str) -> list[BusMessage]:
    return await stream_messages(nats_url, community_wildcard("weft", community_id))


async def wait_for_messages(nats_url: str, subject: str, *, at_least: int, timeout: float = 20.0) -> list[BusMessage]:
    """Poll the stream until `at_least` messages are there (the relay is asynchronous
    on the crash path), then return them all."""
    deadline = time.monotonic() + timeout
    while True:
        found = await stream_messages(nats_url, subject)
        if len(found) >= at_least or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


def types_of(messages: list[BusMessage]) -> list[str]:
    return [m.type for m in messages]
