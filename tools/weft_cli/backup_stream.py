"""The stream's messages to a file, and back into an empty stream.

Each message is one BSON document: its original sequence and time, subject,
headers (with `Nats-Msg-Id`, the envelope id consumers dedupe by) and data. The
restore publishes them in order into an empty stream created to start at the
backup's first sequence, so a stream without interior gaps (Weft's: limits
retention never deletes from the middle) gets its original sequence numbers back;
the restore says whether it did. Times are the restore's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

from weft_cli.backup_files import BsonWriter, read_bson, verify_file

Doc = dict[str, Any]
MESSAGES_FILE = "messages.bson"
_BATCH = 500
# Preconditions of the original publish, not part of the message: a restore into a
# stream of another name, or at other sequences, must not be refused by them.
_PUBLISH_PRECONDITIONS = ("Nats-Expected-",)


class StreamRestoreRefused(RuntimeError):
    """The stream is not in a state to back up from or restore into."""


async def dump_stream(js: JetStreamContext, stream: str, folder: Path) -> Doc:
    """Write every message the stream holds now (up to its last sequence at the start),
    read in batches through a throwaway consumer that needs no acknowledgements."""
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        raise StreamRestoreRefused(f"there is no stream {stream!r} to back up (WEFT_STREAM_NAME)") from None
    first, last = info.state.first_seq, info.state.last_seq
    expected_seq = first
    gaps = 0
    with (folder / MESSAGES_FILE).open("wb") as out:
        writer = BsonWriter(out)
        if info.state.messages:
            async for msg in _messages_up_to(js, stream, last):
                seq = msg.metadata.sequence.stream
                gaps += seq - expected_seq  # deleted from the middle (`nats stream rmm`), or aged out meanwhile
                expected_seq = seq + 1
                record = {
                    "seq": seq,
                    "time": msg.metadata.timestamp,
                    "subject": msg.subject,
                    "headers": dict(msg.headers or {}),
                    "data": bson.Binary(msg.data or b""),
                }
                writer.write(bson.encode(record))
        out.flush()
        os.fsync(out.fileno())
    return {
        "stream": stream,
        "taken_at": datetime.now(UTC),
        "config": info.config.as_dict(),
        "first_seq": first,
        "last_seq": last,
        "gaps": gaps,
        "file": MESSAGES_FILE,
        "count": writer.count,
        "sha256": writer.sha256,
    }


async def _messages_up_to(js: JetStreamContext, stream: str, last: int) -> AsyncIterator[Msg]:
    name = f"weft_backup_{secrets.token_hex(6)}"
    await js.add_consumer(
        stream,
        config=ConsumerConfig(
            name=name,
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.NONE,
            inactive_threshold=60,  # gone a minute after a backup that died
            mem_storage=True,
        ),
    )
    subscription = await js.pull_subscribe_bind(durable=name, stream=stream)
    try:
        while True:
            try:
                batch = await subscription.fetch(_BATCH, timeout=5)
            except TimeoutError:
                return  # nothing more (messages aged out while reading)
            for msg in batch:
                if msg.metadata.sequence.stream > last:
                    return
                yield msg
                if msg.metadata.sequence.stream == last:
                    return
    finally:
        with contextlib.suppress(Exception):
            await subscription.unsubscribe()
        with contextlib.suppress(Exception):
            await js.delete_consumer(stream, name)


async def load_stream(js: JetStreamContext, config: StreamConfig, folder: Path, part: Doc) -> Doc:
    """Publish the backup's messages into stream `config.name`: created if missing
    (starting at the backup's first sequence), refused if it holds any message."""
    verify_file(folder, part["file"], part["sha256"])
    name = config.name or ""
    first = max(int(part["first_seq"]), 1)
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(dataclasses.replace(config, first_seq=first))
    else:
        if info.state.messages:
            raise StreamRestoreRefused(
                f"stream {name!r} holds {info.state.messages} message(s); a stream restore only fills an "
                f"empty stream (delete it with `nats stream rm {name}` first if you mean to replace it)"
            )
        if info.state.last_seq < first - 1:
            # Empty, and not yet past the backup's first sequence: move its next sequence there.
            await js.purge_stream(name, seq=first)
    published = duplicates = same_seq = 0
    for raw in read_bson(folder / part["file"]):
        record = bson.decode(raw)
        headers = {k: v for k, v in record["headers"].items() if not k.startswith(_PUBLISH_PRECONDITIONS)}
        ack = await js.publish(record["subject"], bytes(record["data"]), headers=headers or None)
        if ack.stream != name:
            raise StreamRestoreRefused(f"{record['subject']} was stored in stream {ack.stream!r}, not {name!r}")
        if ack.duplicate:
            duplicates += 1  # same Nats-Msg-Id within the duplicate window: JetStream kept the first
            continue
        published += 1
        same_seq += ack.seq == record["seq"]
    return {"published": published, "duplicates": duplicates, "same_sequence": same_seq}
