"""MongoDB lifecycle: one AsyncMongoClient per process, indexes created on start.

Weft needs multi-document transactions (the transactional outbox), so a service
refuses to start on a standalone mongod. Every acknowledged write is majority
and journaled, set once here on the client.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from pymongo import AsyncMongoClient, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

log = logging.getLogger("weft.storage")

# Acknowledged means on a majority of the replica set and in its on-disk journal
# (mongod's meaning of j:true). The embedded SecantusDB servers honour that only
# with --sync-on-commit, which the dev stack passes (see docs/decisions/0001).
DURABLE = WriteConcern(w="majority", j=True)


class TransactionsUnavailable(RuntimeError):
    """The server is a standalone mongod: no transactions, so no outbox."""


def supports_transactions(hello: dict[str, Any]) -> bool:
    """A replica set member (`setName`) or a mongos router can run transactions."""
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


async def ensure_collection(collection: AsyncCollection[dict[str, Any]]) -> None:
    """Create a collection that no index creates, at start-up: a transaction must not
    create one (mongod refuses explicit creation under snapshot read concern)."""
    if collection.name not in await collection.database.list_collection_names():
        with suppress(CollectionInvalid, OperationFailure):  # another replica created it just now
            await collection.database.create_collection(collection.name)


class MongoLifecycle:
    def __init__(self, url: str, database: str, *, app_name: str) -> None:
        # tz_aware so datetimes come back as UTC-aware values, comparable with now(UTC).
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            appname=app_name,
            tz_aware=True,
            serverSelectionTimeoutMS=5000,
            connect=False,
            w=DURABLE.document["w"],
            journal=True,
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[database]

    async def require_transactions(self) -> None:
        hello = await self.client.admin.command("hello")
        if not supports_transactions(hello):
            raise TransactionsUnavailable(
                "this MongoDB server is a standalone mongod; Weft needs transactions, which need a "
                "replica set. Restart it as a single-node replica set (mongod --replSet rs0, then once "
                "`mongosh --eval 'rs.initiate()'`), or point MONGODB_URL at a replica set (Atlas is one), "
                "or leave MONGODB_URL unset in dev and the embedded SecantusDB is used."
            )

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def close(self) -> None:
        await self.client.close()
