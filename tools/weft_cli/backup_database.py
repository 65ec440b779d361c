"""Dump one service's database to files, and load it back.

The dump reads every collection (GridFS's `fs.files`/`fs.chunks` are ordinary
collections and come along) in ONE snapshot session: all documents as of one
majority-committed cluster time, which the manifest records. MongoDB keeps
snapshot history for `minSnapshotHistoryWindowInSeconds` (300 s by default), so
a dump that reads for longer than that fails with SnapshotTooOld rather than
mixing two moments. Collection options and index specs are read just before the
snapshot: the services create them at start-up and never change them while running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bson import SON, CodecOptions
from bson.raw_bson import RawBSONDocument
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from weft_cli.backup_files import BsonWriter, file_name_for, read_bson, verify_file

Doc = dict[str, Any]
RAW: CodecOptions[RawBSONDocument] = CodecOptions(document_class=RawBSONDocument)
_BATCH = 1000
GUARANTEE = (
    "every collection read in one snapshot session (one majority-committed point in time); "
    "collection options and indexes read just before it"
)


class RestoreRefused(RuntimeError):
    """The target is not in a state a restore may overwrite."""


async def dump_database(client: AsyncMongoClient[Doc], database: str, folder: Path) -> Doc:
    """Write every collection of `database` into `folder`; return the manifest's database part."""
    db = client[database]
    infos = [info async for info in await db.list_collections() if not str(info["name"]).startswith("system.")]
    collections: list[Doc] = []
    for info in sorted(infos, key=lambda i: str(i["name"])):
        entry: Doc = {"name": info["name"], "type": info.get("type", "collection"), "options": info.get("options", {})}
        if entry["type"] == "collection":
            entry["indexes"] = [dict(spec) async for spec in await db[info["name"]].list_indexes()]
        collections.append(entry)
    async with client.start_session(snapshot=True) as session:
        for entry in collections:
            if entry["type"] != "collection":
                continue  # a view: its definition is in `options`
            entry["file"] = file_name_for(entry["name"])
            with (folder / entry["file"]).open("wb") as out:
                writer = BsonWriter(out)
                async for doc in _raw(db, entry["name"]).find({}, session=session):
                    writer.write(bytes(doc.raw))
                out.flush()
                os.fsync(out.fileno())
            entry["count"], entry["sha256"] = writer.count, writer.sha256
        snapshot_time = getattr(session, "_snapshot_time", None)  # the atClusterTime the server chose
        return {
            "database": database,
            "taken_at": datetime.now(UTC),
            "snapshot_time": snapshot_time,
            "operation_time": session.operation_time,
            "cluster_time": (session.cluster_time or {}).get("clusterTime"),
            "guarantee": GUARANTEE,
            "collections": collections,
        }


def verify_database_files(folder: Path, part: Doc) -> None:
    for entry in part["collections"]:
        if entry["type"] == "collection":
            verify_file(folder, entry["file"], entry["sha256"])


async def documents_held(db: AsyncDatabase[Doc]) -> dict[str, int]:
    """Collections that hold at least one document, with their counts."""
    held: dict[str, int] = {}
    for name in await db.list_collection_names():
        if not name.startswith("system.") and (count := await db[name].count_documents({})):
            held[name] = count
    return held


async def load_database(client: AsyncMongoClient[Doc], database: str, folder: Path, part: Doc, *, replace: bool) -> int:
    """Replace `database` with the backup's content. Refuses a database that holds
    documents unless `replace`; the service must be stopped. Returns documents loaded."""
    verify_database_files(folder, part)
    db = client[database]
    held = await documents_held(db)
    if held and not replace:
        listed = ", ".join(f"{name} ({count})" for name, count in sorted(held.items()))
        raise RestoreRefused(
            f"database {database!r} is not empty: {listed}. Stop the service and pass --replace to overwrite it."
        )
    # Empty collections (a service's start-up creates its indexes) go too: the backup's own are created.
    await client.drop_database(database)
    loaded = 0
    for entry in part["collections"]:
        await db.command(SON([("create", entry["name"]), *entry["options"].items()]))
        if entry["type"] != "collection":
            continue
        specs = [_index_spec(spec) for spec in entry["indexes"] if spec.get("name") != "_id_"]
        if specs:
            await db.command(SON([("createIndexes", entry["name"]), ("indexes", specs)]))
        collection = _raw(db, entry["name"])
        count = 0
        for batch in _batches(read_bson(folder / entry["file"])):
            await collection.insert_many([RawBSONDocument(raw) for raw in batch], ordered=True)
            count += len(batch)
        if count != entry["count"]:
            raise RestoreRefused(f"{entry['file']} held {count} document(s); the manifest says {entry['count']}")
        loaded += count
    return loaded


def _raw(db: AsyncDatabase[Doc], name: str) -> AsyncCollection[RawBSONDocument]:
    """The collection's documents as undecoded BSON: written and read back byte for byte."""
    return cast(AsyncCollection[RawBSONDocument], db.get_collection(name, codec_options=RAW))


def _index_spec(spec: Doc) -> Doc:
    # `v` and `ns` describe the stored index, not what to create.
    return {key: value for key, value in spec.items() if key not in ("v", "ns")}


def _batches(raws: Iterator[bytes]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for raw in raws:
        batch.append(raw)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
