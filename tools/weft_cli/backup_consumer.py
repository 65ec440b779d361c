"""A consuming service's position in the stream: recorded with its database, and
restored with it.

The position lives in NATS (the durable consumer), not in the database. The backup
reads the consumer's ack floor BEFORE the database snapshot: a handler commits its
transaction and only then acknowledges, so every message up to the ack floor is in
the snapshot. Messages handled between the two are in the snapshot as well, with
their processed-message records, so replaying them changes nothing.

The restore deletes the durable and creates it again, with the same config, to
deliver from ack floor + 1: the restored service replays what it missed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

Doc = dict[str, Any]


async def consumer_position(js: JetStreamContext, stream: str, durable: str) -> Doc | None:
    """The durable's ack floor and config, or None if it does not exist (yet)."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return None
    return {
        "stream": stream,
        "durable": durable,
        "ack_floor": info.ack_floor.stream_seq if info.ack_floor else 0,
        "num_pending": info.num_pending,
        "config": info.config.as_dict(),
    }


async def waiting_pulls(js: JetStreamContext, stream: str, durable: str) -> int:
    """Pull requests waiting on the durable: a running replica of the service."""
    try:
        return int((await js.consumer_info(stream, durable)).num_waiting or 0)
    except NotFoundError:
        return 0


async def reset_consumer(js: JetStreamContext, stream: str, durable: str, recorded: Doc | None) -> str:
    """Put the durable where the backup found it; say what was done."""
    try:
        existing: ConsumerConfig | None = (await js.consumer_info(stream, durable)).config
    except NotFoundError:
        existing = None
    if existing is not None:
        await js.delete_consumer(stream, durable)
    if recorded is None:
        return (
            f"consumer {durable!r} did not exist when the backup was taken: deleted, so the service "
            "replays the whole stream when it starts"
        )
    base = existing or ConsumerConfig.from_response(dict(recorded["config"]))
    start = int(recorded["ack_floor"]) + 1
    config = dataclasses.replace(
        base,
        name=durable,
        durable_name=durable,
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=start,
        opt_start_time=None,
    )
    await js.add_consumer(stream, config=config)
    return f"consumer {durable!r} on {stream} re-created to deliver from #{start} (acknowledged up to #{start - 1})"
