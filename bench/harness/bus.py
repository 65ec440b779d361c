"""The bench's own NATS connection: consumer backlogs, per-subject message counts, core subscriptions.

The bench learns that the events service has taken in what membership announced (e.g. that
fresh members joined, before they RSVP) from the bus alone, not from the service's database:
the stream holds the expected number of messages on the subject, and every durable consumer
on the stream has fetched and acknowledged everything (no backlog).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import nats

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg

CATCH_UP_TIMEOUT = 30.0  # for the consumers to drain what is pending


class Bus:
    def __init__(self, nc: NatsClient, stream: str, subject_prefix: str) -> None:
        self.nc = nc
        self.js = nc.jetstream()
        self.stream = stream
        self.prefix = subject_prefix

    @classmethod
    async def connect(cls, url: str, stream: str, subject_prefix: str) -> Bus:
        return cls(await nats.connect(url, name="weft-bench", allow_reconnect=False), stream, subject_prefix)

    def subject(self, kind: str, community_id: str) -> str:
        """e.g. subject("member.joined", cid) -> weft.member.joined.v1.<cid>"""
        return f"{self.prefix}.{kind}.v1.{community_id}"

    async def backlog(self) -> int:
        """Messages the stream's durable consumers (the services) have not fetched, plus those they
        have not acknowledged yet, summed over every consumer on the stream."""
        consumers = await self.js.consumers_info(self.stream)
        return sum((info.num_pending or 0) + (info.num_ack_pending or 0) for info in consumers)

    async def caught_up(self, timeout: float = CATCH_UP_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while await self.backlog() > 0:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def count(self, subject: str) -> int:
        """Messages the stream holds on exactly this subject."""
        info = await self.js.stream_info(self.stream, subjects_filter=subject)
        return int((info.state.subjects or {}).get(subject, 0))

    async def wait_for_count(self, subject: str, at_least: int, timeout: float) -> int:
        """Until the stream holds `at_least` messages on `subject` (or `timeout`); the count reached."""
        deadline = time.monotonic() + timeout
        while (seen := await self.count(subject)) < at_least:
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.1)
        return seen

    async def close(self) -> None:
        await self.nc.close()


class PublishCounter:
    """A core NATS subscription sees every publish, also those JetStream then drops as duplicates."""

    def __init__(self) -> None:
        self.published = 0
        self.ids: set[str] = set()

    async def on_message(self, msg: Msg) -> None:
        self.published += 1
        self.ids.add((msg.headers or {}).get("Nats-Msg-Id", ""))
