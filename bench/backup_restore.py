"""How long `weft backup` and `weft restore` take: a database of N documents and a stream of M messages.

Starts its own nats-server and database (the ladder, as `make test` does), fills the
events service's database (under a fresh name) with `--documents` documents of about
`--size` bytes across four indexed collections, and the stream with `--messages`
CloudEvents-sized messages; then backs both up and restores them (the database into
an empty one, the stream into an empty stream) and prints the times and rates.

    .venv/bin/python bench/backup_restore.py [--documents 50000] [--messages 10000] [--size 400]

It prints figures and asserts nothing beyond the counts coming back.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from pymongo import AsyncMongoClient

from weft_cli import ladder
from weft_cli.backup import run_backup, run_restore
from weft_cli.natsserver import start_nats
from weft_shared.messaging.broker import create_broker, ensure_streams
from weft_shared.settings import PlatformSettings


async def fill(platform: PlatformSettings, database: str, documents: int, messages: int, size: int) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(platform.mongodb_url)
    db = client[database]
    pad = "x" * size
    for n in range(4):
        collection = db[f"things_{n}"]
        await collection.create_index("k")
        share = documents // 4
        for start in range(0, share, 1000):
            await collection.insert_many(
                [{"k": i, "pad": pad} for i in range(start, min(start + 1000, share))], ordered=False
            )
    await client.close()
    broker = create_broker(platform, client_name="bench-backup")
    await broker.connect()
    await ensure_streams(broker, platform)
    await broker.stop()
    nc = await nats.connect(platform.nats_url)
    js = nc.jetstream()
    body = b'{"specversion":"1.0","data":{"pad":"' + pad.encode() + b'"}}'
    for i in range(messages):
        await js.publish(
            f"{platform.subject_prefix}.member.joined.v1.c{i % 50}", body, headers={"Nats-Msg-Id": secrets.token_hex(8)}
        )
    await nc.close()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="weft-bench-backup-") as tmp:
        root = Path(tmp)
        (root / "nats").mkdir()
        (root / "db").mkdir()
        nats_handle = start_nats(root / "nats")
        db_handle = ladder.provide_database(root / "db", rung=ladder.choose_rung(), log=print)
        try:
            run = secrets.token_hex(3)
            platform = PlatformSettings(
                env="dev",
                nats_url=nats_handle.url,
                mongodb_url=db_handle.url,
                stream_name=f"BENCH_{run.upper()}",
                subject_prefix=f"b{run}",
            )
            env = {"WEFT_EVENTS_DATABASE": f"bench_events_{run}", "WEFT_EVENTS_CONSUMER_NAME": f"bench_{run}"}
            await fill(platform, env["WEFT_EVENTS_DATABASE"], args.documents, args.messages, args.size)
            said: list[str] = []

            async def timed(label: str, count: int, step: Any) -> None:
                started = time.perf_counter()
                await step
                took = time.perf_counter() - started
                print(f"{label:<34} {took:7.2f} s  {count / took:9.0f} per s")

            folder = root / "backup"
            await timed(
                "backup: database",
                args.documents,
                run_backup(["events"], stream=False, to=folder, platform=platform, echo=said.append, env=env),
            )
            await timed(
                "backup: stream",
                args.messages,
                run_backup([], stream=True, to=folder, platform=platform, echo=said.append, env=env),
            )
            restored_env = {**env, "WEFT_EVENTS_DATABASE": f"bench_events_{run}_restored"}
            await timed(
                "restore: database (empty target)",
                args.documents,
                run_restore(
                    ["events"],
                    stream=False,
                    source=folder,
                    replace=False,
                    platform=platform,
                    echo=said.append,
                    env=restored_env,
                ),
            )
            nc = await nats.connect(platform.nats_url)
            await nc.jetstream().delete_stream(platform.stream_name)
            await nc.close()
            await timed(
                "restore: stream (empty stream)",
                args.messages,
                run_restore(
                    [], stream=True, source=folder, replace=False, platform=platform, echo=said.append, env=env
                ),
            )
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            print(f"backup folder: {size / 1e6:.1f} MB")
            for line in said:
                print(f"  {line}")
        finally:
            nats_handle.stop()
            db_handle.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=50_000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=400)
    asyncio.run(main(parser.parse_args()))
