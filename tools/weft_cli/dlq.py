"""`weft dlq list|show|replay`: the dead-letter stream (`<stream>_DLQ`).

Each entry is the original message's body with headers the consumer added when it gave
up (see `weft_shared.messaging.consumer`): the error, the original subject and stream
sequence, the consumer (durable) and how many deliveries it had. A replay publishes the
body again to its original subject for the consumer that gave up on it (`Weft-Replay-For`:
every other durable skips it, having handled it, or dead-lettered its own copy, the first
time; and each is idempotent by the envelope id anyway), with
`Nats-Msg-Id` = `<message id>:replay:<dlq sequence>` so running a replay twice inside
the dedupe window does not publish it twice; the entry is deleted only after the PubAck.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from weft_cli.operator_targets import connect_nats
from weft_shared.messaging.broker import DLQ_SUFFIX
from weft_shared.messaging.consumer import REPLAY_FOR_HEADER

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DeadLetter:
    sequence: int
    time: datetime | None
    headers: dict[str, str]
    body: bytes

    @property
    def envelope(self) -> dict[str, Any]:
        try:
            found = json.loads(self.body)
        except ValueError:
            return {}
        return found if isinstance(found, dict) else {}

    @property
    def consumer(self) -> str:
        return self.headers.get("Weft-Consumer", "")

    @property
    def original_subject(self) -> str:
        return self.headers.get("Weft-Original-Subject", "")

    def summary(self) -> dict[str, Any]:
        envelope = self.envelope
        return {
            "seq": self.sequence,
            "time": self.time.isoformat() if self.time else None,
            "consumer": self.consumer,
            "subject": self.original_subject,
            "original_seq": self.headers.get("Weft-Original-Sequence"),
            "id": envelope.get("id"),
            "type": envelope.get("type"),
            "deliveries": self.headers.get("Weft-Delivery-Count"),
            "error": self.headers.get("Weft-Error", ""),
        }


def replay_headers(entry: DeadLetter) -> dict[str, str]:
    """Its id for this replay, and the one consumer it is for (the others skip it: they handled
    it, or dead-lettered it themselves, the first time)."""
    headers = {"Nats-Msg-Id": replay_id(entry)}
    if entry.consumer:
        headers[REPLAY_FOR_HEADER] = entry.consumer
    return headers


def replay_id(entry: DeadLetter) -> str:
    return f"{entry.envelope.get('id') or 'message'}:replay:{entry.sequence}"


async def read_entries(js: JetStreamContext, stream: str, *, service: str | None = None) -> list[DeadLetter]:
    name = stream + DLQ_SUFFIX
    info = await js.stream_info(name)
    entries: list[DeadLetter] = []
    if not info.state.messages:
        return entries
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            raw = await js.get_msg(name, seq)
        except NotFoundError:  # deleted (replayed)
            continue
        entry = DeadLetter(seq, raw.time, dict(raw.headers or {}), raw.data or b"")
        if service is None or entry.consumer == service:
            entries.append(entry)
    return entries


async def _entries(nats_url: str, stream: str, service: str | None) -> tuple[Client, list[DeadLetter]]:
    nc = await connect_nats(nats_url, "weft-dlq")
    try:
        return nc, await read_entries(nc.jetstream(), stream, service=service)
    except BaseException:
        await nc.close()
        raise


async def list_dead_letters(
    nats_url: str, stream: str, echo: Echo, *, service: str | None, limit: int, as_json: bool
) -> int:
    nc, entries = await _entries(nats_url, stream, service)
    await nc.close()
    shown = [entry.summary() for entry in entries[-limit:]]
    if as_json:
        echo(json.dumps(shown, indent=2))
        return 0
    if not shown:
        echo(f"{stream}{DLQ_SUFFIX}: empty" + (f" for {service}" if service else ""))
        return 0
    echo(f"{len(entries)} dead letter(s) in {stream}{DLQ_SUFFIX}" + (f" for {service}" if service else ""))
    for row in shown:
        echo(
            f"#{row['seq']}  {row['consumer'] or '?'}  {row['type'] or '?'}  id={row['id']}  "
            f"deliveries={row['deliveries']}  {row['subject']}\n      {row['error']}"
        )
    return 0


async def show_dead_letter(nats_url: str, stream: str, seq: int, echo: Echo) -> int:
    nc, entries = await _entries(nats_url, stream, None)
    await nc.close()
    entry = next((e for e in entries if e.sequence == seq), None)
    if entry is None:
        echo(f"no dead letter #{seq} in {stream}{DLQ_SUFFIX}")
        return 1
    summary = entry.summary()
    echo(json.dumps({**summary, "envelope": entry.envelope or entry.body.decode("utf-8", "replace")}, indent=2))
    return 0


async def replay_dead_letters(
    nats_url: str, stream: str, echo: Echo, *, seq: int | None, service: str | None, dry_run: bool
) -> int:
    nc, entries = await _entries(nats_url, stream, service)
    try:
        chosen = [e for e in entries if seq is None or e.sequence == seq]
        if seq is not None and not chosen:
            echo(f"no dead letter #{seq} in {stream}{DLQ_SUFFIX}" + (f" for {service}" if service else ""))
            return 1
        js = nc.jetstream()
        for entry in chosen:
            if not entry.original_subject:
                echo(f"#{entry.sequence}: no original subject recorded; left in place")
                continue
            what = f"#{entry.sequence} ({entry.envelope.get('type')}, id {entry.envelope.get('id')})"
            if dry_run:
                echo(f"would replay {what} to {entry.original_subject}")
                continue
            ack = await js.publish(entry.original_subject, entry.body, stream=stream, headers=replay_headers(entry))
            await js.delete_msg(stream + DLQ_SUFFIX, entry.sequence)  # only after the PubAck
            echo(
                f"replayed {what} to {entry.original_subject} as #{ack.seq}" + (" (duplicate)" if ack.duplicate else "")
            )
        if not chosen:
            echo("nothing to replay")
        return 0
    finally:
        await nc.close()
