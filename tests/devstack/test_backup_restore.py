"""`weft backup` / `weft restore`, run with an operator's arguments, against real NATS and a real database.

The proof: the events service is backed up, more happens, its database is lost;
restored alone, it has what it had and learns by replay what it missed, once.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import nats
import orjson
from bson.raw_bson import RawBSONDocument
from gridfs import AsyncGridFSBucket
from nats.js import JetStreamContext
from nats.js.api import DeliverPolicy
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from typer.testing import CliRunner

from tests.conftest import StartService
from tests.events.conftest import schedule
from tests.support.api import create_community, new_person
from tests.support.isolated import isolated
from tests.support.waiting import eventually
from weft_cli import ladder
from weft_cli.backup_database import RAW, dump_database, load_database
from weft_cli.backup_targets import DATA_SERVICES, service_target
from weft_cli.cli import app
from weft_cli.natsserver import NatsHandle
from weft_shared.contracts.membership import CommunityCreated, MemberJoined
from weft_shared.messaging.broker import create_broker, ensure_streams
from weft_shared.messaging.outbox import Outbox, OutboxRelay


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


async def weft(env: dict[str, str], *args: str) -> Ran:
    """The `weft` command itself, in this process (a fresh interpreter per call costs seconds on a
    busy machine): on a thread, since the command runs its own event loop; with exactly `env`."""
    unset = {key: None for key in os.environ if key.startswith(("WEFT_", "MONGODB_URL")) and key not in env}
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env={**unset, **env})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, result.stderr)


def own_stream_env(platform_env: dict[str, str], label: str) -> dict[str, str]:
    """A stream, subject prefix, databases and consumer of this test's own on the session's servers."""
    run = secrets.token_hex(3)
    return {
        **platform_env,
        "WEFT_STREAM_NAME": f"BACKUP_{run.upper()}",
        "WEFT_SUBJECT_PREFIX": f"bk{run}",
        "WEFT_MEMBERSHIP_DATABASE": f"weft_membership_{label}_{run}",
        "WEFT_EVENTS_DATABASE": f"weft_events_{label}_{run}",
        "WEFT_EVENTS_CONSUMER_NAME": f"events_{label}_{run}",
    }


# What the events service's consumer handles of what happens in this test.
EVENTS_HANDLES = {CommunityCreated.message_type, MemberJoined.message_type}


async def ids_events_handles(js: JetStreamContext, stream: str) -> list[str]:
    last = (await js.stream_info(stream)).state.last_seq
    envelopes = [orjson.loads((await js.get_msg(stream, seq=seq)).data or b"{}") for seq in range(1, last + 1)]
    return [e["id"] for e in envelopes if e.get("type") in EVENTS_HANDLES]


async def test_restoring_events_alone_keeps_its_data_and_replays_what_it_missed(
    start_service: StartService, platform_env: dict[str, str], tmp_path: Path
) -> None:
    env = own_stream_env(platform_env, "restore")
    cli_env = env
    stream, durable = env["WEFT_STREAM_NAME"], env["WEFT_EVENTS_CONSUMER_NAME"]
    events_db_name = env["WEFT_EVENTS_DATABASE"]
    # Side by side: each creates the stream if it is missing (an idempotent create).
    membership, events = await asyncio.gather(
        asyncio.to_thread(start_service, "membership", env=env), asyncio.to_thread(start_service, "events", env=env)
    )
    owner = new_person("owner")
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(env["MONGODB_URL"], tz_aware=True)
    nc = await nats.connect(env["WEFT_NATS_URL"])
    js = nc.jetstream()
    events_db = mongo[events_db_name]
    try:
        async with (
            httpx.AsyncClient(base_url=membership.url, timeout=15) as members,
            httpx.AsyncClient(base_url=events.url, timeout=15) as events_api,
        ):
            first = (await create_community(members, owner))["id"]
            gathering = await schedule(events_api, first, owner)

            backup = tmp_path / "nightly"
            done = await weft(cli_env, "backup", "--service", "events", "--to", str(backup))
            assert done.returncode == 0, done.stderr
            # Personal data: readable by the backup's owner only.
            modes = {p.relative_to(backup).as_posix(): p.stat().st_mode & 0o777 for p in [backup, *backup.rglob("*")]}
            assert all(m == (0o700 if (backup / p).is_dir() else 0o600) for p, m in modes.items()), modes
            assert "events: " in done.stdout and f"consumer {durable!r} acknowledged up to #" in done.stdout, (
                done.stdout
            )

            # After the backup: a second community, which events learns by message.
            second = (await create_community(members, owner))["id"]

            async def learned_second() -> bool:
                return await events_db.membership_communities.find_one({"_id": second}) is not None

            await eventually(learned_second, what="events to learn the second community")

            # A running service's database holds documents: the restore refuses to touch it.
            refused = await weft(cli_env, "restore", "--service", "events", "--from", str(backup))
            assert refused.returncode == 1
            assert f"database {events_db_name!r} is not empty" in refused.stderr, refused.stderr
            assert "--replace" in refused.stderr

            # A corrupted file is refused before anything is touched.
            corrupted = tmp_path / "corrupted"
            shutil.copytree(backup, corrupted)
            events_file = corrupted / "services" / "events" / "events.bson"
            data = bytearray(events_file.read_bytes())
            data[-2] ^= 0xFF
            events_file.write_bytes(bytes(data))
            bad = await weft(cli_env, "restore", "--service", "events", "--from", str(corrupted), "--replace")
            assert bad.returncode == 1
            assert f"{events_file} is corrupted: its sha256 is" in bad.stderr, bad.stderr
            assert await events_db.membership_communities.count_documents({}) == 2  # untouched

            # Lose the events service's database, with the service stopped.
            events.stop()
            await mongo.drop_database(events_db_name)

            restored = await weft(cli_env, "restore", "--service", "events", "--from", str(backup))
            assert restored.returncode == 0, restored.stderr
            assert f"consumer {durable!r} on {stream} re-created to deliver from #" in restored.stdout, restored.stdout
            assert await events_db.membership_communities.count_documents({}) == 1  # as of the backup

            events.start()
            got = await events_api.get(f"/v1/events/{gathering['id']}", headers=owner.headers)
            assert got.status_code == 200, got.text
            assert got.json()["title"] == gathering["title"]

            await eventually(learned_second, what="the restored events service to replay the second community")

            async def caught_up() -> bool:
                info = await js.consumer_info(stream, durable)
                return bool(info.num_pending == 0 and info.num_ack_pending == 0)

            await eventually(caught_up, what="the restored consumer to catch up")
            # Nothing doubled: one fact per community and per membership, one event, each message handled once.
            assert sorted(
                [d["_id"] async for d in events_db.membership_communities.find({}, projection={"_id": 1})]
            ) == sorted([first, second])
            assert await events_db.membership_members.count_documents({}) == 2
            assert await events_db.events.count_documents({}) == 1
            handled = [d["_id"] async for d in events_db.processed_messages.find({}, projection={"_id": 1})]
            assert sorted(handled) == sorted(await ids_events_handles(js, stream))  # 2 communities, 2 owners
            assert len(handled) == 4
            # The service's own start keeps the restored start position (JetStream refuses to change it).
            info = await js.consumer_info(stream, durable)
            assert info.config.deliver_policy == DeliverPolicy.BY_START_SEQUENCE
    finally:
        await nc.close()
        for name in (events_db_name, env["WEFT_MEMBERSHIP_DATABASE"]):
            await mongo.drop_database(name)
        await mongo.close()


async def test_stream_round_trip_into_an_empty_stream_keeps_subjects_ids_and_payloads(
    nats_server: NatsHandle, database: ladder.DatabaseHandle, tmp_path: Path
) -> None:
    async with isolated(nats_server.url, database.url, "stream_backup") as iso:
        platform = iso.platform
        env = {
            "WEFT_NATS_URL": nats_server.url,
            "MONGODB_URL": database.url,
            "WEFT_STREAM_NAME": platform.stream_name,
            "WEFT_SUBJECT_PREFIX": platform.subject_prefix,
        }
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        try:
            # Five messages aged out at the old end (a purge keeps the sequence going): the stream holds #6..#30.
            for _ in range(5):
                await js.publish(f"{platform.subject_prefix}.member.joined.v1.c0", b"{}")
            await js.purge_stream(platform.stream_name)
            sent = []
            for i in range(25):
                subject = f"{platform.subject_prefix}.member.joined.v1.c{i % 3}"
                msg_id = secrets.token_hex(8)
                payload = b'{"n": %d, "bytes": "\\u00e9"}' % i
                await js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id, "content-type": "x/y"})
                sent.append((subject, msg_id, payload))

            backup = tmp_path / "nightly"
            done = await weft(env, "backup", "--stream", "--to", str(backup))
            assert done.returncode == 0, done.stderr
            assert f"stream {platform.stream_name}: 25 message(s), #6..#30, 0 gap(s)" in done.stdout, done.stdout
            assert not (backup / "services").exists()  # --stream alone: only the stream

            refused = await weft(env, "restore", "--stream", "--from", str(backup))
            assert refused.returncode == 1
            assert f"stream {platform.stream_name!r} holds 25 message(s)" in refused.stderr, refused.stderr

            async def restored_as_sent() -> None:
                restored = await weft(env, "restore", "--stream", "--from", str(backup))
                assert restored.returncode == 0, restored.stderr
                assert "25 message(s) published (25 at their original sequence" in restored.stdout, restored.stdout
                back = [await js.get_msg(platform.stream_name, seq=seq) for seq in range(6, 31)]
                assert [(m.subject, (m.headers or {})["Nats-Msg-Id"], m.data) for m in back] == sent
                assert all((m.headers or {}).get("content-type") == "x/y" for m in back)

            # The stream lost: the restore creates it, starting at the backup's first sequence.
            await js.delete_stream(platform.stream_name)
            await restored_as_sent()
            # An empty stream a starting service created: the restore moves its next sequence there.
            await js.delete_stream(platform.stream_name)
            broker = create_broker(platform, client_name="backup-test")
            await broker.connect()
            try:
                await ensure_streams(broker, platform)
            finally:
                await broker.stop()
            await restored_as_sent()
        finally:
            await nc.close()


def test_backup_targets_name_what_the_services_use() -> None:
    """The CLI does not import the services; its defaults must agree with their settings."""
    from weft_events.settings import EventsSettings
    from weft_membership.settings import MembershipSettings
    from weft_notifications.settings import NotificationsSettings
    from weft_resources.settings import ResourcesSettings
    from weft_shared.settings import PlatformSettings
    from weft_web.settings import WebSettings

    dev = PlatformSettings(env="dev")
    classes: dict[str, Any] = {
        "membership": MembershipSettings,
        "events": EventsSettings,
        "notifications": NotificationsSettings,
        "resources": ResourcesSettings,
        "web": WebSettings,
    }
    assert set(classes) == set(DATA_SERVICES)
    for name, settings_class in classes.items():
        settings = settings_class(platform=dev)
        target = service_target(name, env={})
        assert target.database == settings.database, name
        assert target.durable == getattr(settings, "consumer_name", None), name
        renamed = service_target(name, env={f"{settings_class.model_config['env_prefix']}DATABASE": "elsewhere"})
        assert renamed.database == "elsewhere"


async def test_a_database_round_trip_keeps_documents_indexes_gridfs_and_republishes_the_outbox(
    nats_server: NatsHandle, database: ladder.DatabaseHandle, tmp_path: Path
) -> None:
    async with isolated(nats_server.url, database.url, "db_backup") as iso:
        db, client = iso.db, iso.client
        await db.things.create_index([("b", 1), ("a", -1)], unique=True, name="b_a")
        await db.things.create_index("at", expireAfterSeconds=3600)
        await db.things.create_index("k", partialFilterExpression={"k": {"$exists": True}})
        now = datetime.now(UTC)
        await db.things.insert_many(
            [{"_id": i, "a": i, "b": f"x{i}", "at": now, "nested": {"z": 1.5, "a": [1, "2"]}} for i in range(30)]
        )
        content = secrets.token_bytes(600_000)  # several GridFS chunks
        file_id = await AsyncGridFSBucket(db).upload_from_stream("minutes.pdf", content)
        outbox = Outbox(db)
        await outbox.create_indexes()
        record_id = secrets.token_hex(12)
        subject = f"{iso.platform.subject_prefix}.community.created.v1.c1"
        body = {"id": record_id, "type": CommunityCreated.message_type, "data": {}}
        await db.outbox.insert_one(
            {"_id": record_id, "aggregate": "communities/c1", "version": 1, "subject": subject, "body": body}
            | {"created_at": now - timedelta(minutes=5)}
        )

        folder = tmp_path / "dump"
        folder.mkdir()
        part = await dump_database(client, db.name, folder)
        assert {c["name"]: c.get("count") for c in part["collections"]} == {
            "fs.chunks": 3,
            "fs.files": 1,
            "outbox": 1,
            "outbox_versions": 0,
            "things": 30,
        }
        assert part["snapshot_time"] is not None  # the server chose the snapshot's cluster time

        restored = client[f"{db.name}_restored"]
        try:
            assert await load_database(client, restored.name, folder, part, replace=False) == 35
            for name in await db.list_collection_names():
                original = sorted([bytes(d.raw) async for d in raw_collection(db, name).find({})])
                assert sorted([bytes(d.raw) async for d in raw_collection(restored, name).find({})]) == original
                assert await index_specs(restored, name) == await index_specs(db, name), name
            assert await (await AsyncGridFSBucket(restored).open_download_stream(file_id)).read() == content

            # The restored outbox is published by the service's relay, with the record's own id.
            broker = create_broker(iso.platform, client_name="backup-test")
            await broker.connect()
            try:
                relay = OutboxRelay(broker, iso.platform, Outbox(restored), grace=timedelta(0))
                assert await relay.sweep() == 1
            finally:
                await broker.stop()
            nc = await nats.connect(nats_server.url)
            try:
                published = await nc.jetstream().get_last_msg(iso.platform.stream_name, subject)
                assert (published.headers or {})["Nats-Msg-Id"] == record_id
                assert orjson.loads(published.data or b"")["id"] == record_id
            finally:
                await nc.close()
        finally:
            await client.drop_database(restored.name)


def raw_collection(db: AsyncDatabase[dict[str, Any]], name: str) -> AsyncCollection[RawBSONDocument]:
    return cast(AsyncCollection[RawBSONDocument], db.get_collection(name, codec_options=RAW))


async def index_specs(db: AsyncDatabase[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    specs = [{k: v for k, v in spec.items() if k != "ns"} async for spec in await db[name].list_indexes()]
    return sorted(specs, key=lambda spec: str(spec["name"]))
