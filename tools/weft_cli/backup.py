"""`weft backup` and `weft restore`: each service's database (with its durable
consumer's position) and the stream, to and from a folder.

Layout of a backup folder (one night's):

    <DIR>/services/<service>/manifest.json   database, snapshot time, consumer ack floor, per file count + sha256
    <DIR>/services/<service>/<collection>.bson
    <DIR>/stream/manifest.json, messages.bson

Each part is written under a temporary name and renamed when complete, so a part
that exists is whole; an existing part is never overwritten. See docs/backups.md.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.js import JetStreamContext
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from weft_cli.backup_consumer import consumer_position, reset_consumer, waiting_pulls
from weft_cli.backup_database import RestoreRefused, dump_database, load_database
from weft_cli.backup_files import FORMAT, BackupCorrupt, read_manifest, write_manifest
from weft_cli.backup_stream import StreamRestoreRefused, dump_stream, load_stream
from weft_cli.backup_targets import service_target
from weft_shared.messaging.broker import stream_config
from weft_shared.settings import PlatformSettings

Echo = Callable[[str], None]
Doc = dict[str, Any]


class BackupFailed(RuntimeError):
    """What the operator is told, without a traceback."""


# Everything a refused or impossible backup/restore raises, for the CLI to report.
REFUSALS = (BackupFailed, BackupCorrupt, RestoreRefused, StreamRestoreRefused)


@dataclass
class Connections:
    mongo: AsyncMongoClient[Doc]
    js: JetStreamContext
    platform: PlatformSettings


def _without_password(url: str) -> str:
    return re.sub(r"//[^@/]*@", "//…@", url)


async def _reported_by_us(_exc: Exception) -> None:
    """nats-py prints every connection error with a traceback; the failure is reported once, plainly."""


@asynccontextmanager
async def connections(platform: PlatformSettings) -> AsyncIterator[Connections]:
    # Majority, journaled writes, as the services write (weft_shared.storage.client).
    mongo: AsyncMongoClient[Doc] = AsyncMongoClient(
        platform.mongodb_url, tz_aware=True, w="majority", journal=True, serverSelectionTimeoutMS=5000
    )
    try:
        await mongo.admin.command("ping")
    except PyMongoError as exc:
        await mongo.close()
        raise BackupFailed(f"cannot reach the database at {_without_password(platform.mongodb_url)}: {exc}") from None
    try:
        nc = await nats.connect(
            # One server, or a cluster's servers separated by commas, as the services take it.
            [url.strip() for url in platform.nats_url.split(",") if url.strip()],
            connect_timeout=5,
            max_reconnect_attempts=2,
            error_cb=_reported_by_us,
        )
    except Exception as exc:
        await mongo.close()
        raise BackupFailed(f"cannot reach NATS at {platform.nats_url}: {exc or type(exc).__name__}") from None
    try:
        yield Connections(mongo, nc.jetstream(timeout=10), platform)
    finally:
        await nc.close()
        await mongo.close()


def service_folder(root: Path, service: str) -> Path:
    return root / "services" / service


def stream_folder(root: Path) -> Path:
    return root / "stream"


@contextmanager
def _new_part(final: Path) -> Iterator[Path]:
    """A folder that appears at `final` only once everything in it is written."""
    if final.exists():
        raise BackupFailed(f"{final} already exists; a backup never overwrites one (choose another --to)")
    partial = final.with_name(f".{final.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    partial.rename(final)


async def back_up_service(conn: Connections, service: str, root: Path, echo: Echo, env: Mapping[str, str]) -> Doc:
    target = service_target(service, env)
    stream = conn.platform.stream_name
    # The position first, then the snapshot: everything acknowledged is then in the snapshot.
    position = await consumer_position(conn.js, stream, target.durable) if target.durable else None
    with _new_part(service_folder(root, service)) as folder:
        part = await dump_database(conn.mongo, target.database, folder)
        manifest = {"format": FORMAT, "kind": "service", "service": service, **part, "consumer": position}
        write_manifest(folder, manifest)
    documents = sum(c.get("count", 0) for c in part["collections"])
    said = f"{service}: {len(part['collections'])} collection(s), {documents} document(s) from {target.database!r}"
    if target.durable:
        said += (
            f"; consumer {target.durable!r} acknowledged up to #{position['ack_floor']}"
            if position
            else f"; consumer {target.durable!r} does not exist yet"
        )
    echo(said)
    return manifest


async def back_up_stream(conn: Connections, root: Path, echo: Echo) -> Doc:
    stream = conn.platform.stream_name
    with _new_part(stream_folder(root)) as folder:
        part = await dump_stream(conn.js, stream, folder)
        manifest = {"format": FORMAT, "kind": "stream", **part}
        write_manifest(folder, manifest)
    echo(
        f"stream {stream}: {part['count']} message(s), #{part['first_seq']}..#{part['last_seq']}, {part['gaps']} gap(s)"
    )
    return manifest


async def restore_service(
    conn: Connections, service: str, root: Path, echo: Echo, env: Mapping[str, str], *, replace: bool
) -> None:
    folder = service_folder(root, service)
    manifest = read_manifest(folder, kind="service")
    if manifest.get("service") != service:
        raise BackupCorrupt(f"{folder} holds a backup of {manifest.get('service')!r}, not {service!r}")
    target = service_target(service, env)
    stream = conn.platform.stream_name
    if target.durable and (waiting := await waiting_pulls(conn.js, stream, target.durable)):
        echo(
            f"warning: consumer {target.durable!r} has {waiting} waiting pull request(s); "
            "if the service is still running, stop every replica and restore again"
        )
    loaded = await load_database(conn.mongo, target.database, folder, manifest, replace=replace)
    echo(f"{service}: {loaded} document(s) restored into {target.database!r} (backup of {manifest['taken_at']})")
    if target.durable:
        echo(f"{service}: " + await reset_consumer(conn.js, stream, target.durable, manifest["consumer"]))
    outbox = next((c.get("count", 0) for c in manifest["collections"] if c["name"] == "outbox"), 0)
    if outbox:
        echo(f"{service}: {outbox} outbox record(s) restored; it publishes them with their original ids when it starts")


async def restore_stream(conn: Connections, root: Path, echo: Echo) -> None:
    folder = stream_folder(root)
    manifest = read_manifest(folder, kind="stream")
    result = await load_stream(conn.js, stream_config(conn.platform), folder, manifest)
    echo(
        f"stream {conn.platform.stream_name}: {result['published']} message(s) published "
        f"({result['same_sequence']} at their original sequence, {result['duplicates']} duplicate id(s) dropped)"
    )


def _make_folder(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def _require_folder(path: Path) -> None:
    if not path.is_dir():
        raise BackupFailed(f"{path} is not a folder")


async def run_backup(
    services: Sequence[str],
    *,
    stream: bool,
    to: Path,
    platform: PlatformSettings,
    echo: Echo,
    env: Mapping[str, str] = os.environ,
) -> None:
    # A backup holds personal data: only its owner may read it (folders 0700, files 0600).
    previous = os.umask(0o077)
    try:
        _make_folder(to)
        async with connections(platform) as conn:
            for service in services:
                await back_up_service(conn, service, to, echo, env)
            if stream:
                await back_up_stream(conn, to, echo)
    finally:
        os.umask(previous)


async def run_restore(
    services: Sequence[str],
    *,
    stream: bool,
    source: Path,
    replace: bool,
    platform: PlatformSettings,
    echo: Echo,
    env: Mapping[str, str] = os.environ,
) -> None:
    _require_folder(source)
    async with connections(platform) as conn:
        if stream:  # first: the services' positions refer to it
            await restore_stream(conn, source, echo)
        for service in services:
            await restore_service(conn, service, source, echo, env, replace=replace)
