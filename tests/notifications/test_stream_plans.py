"""The live stream's reads go through indexes: each query is recorded off the wire while
the stream's storage calls run, then `explain`ed; no winning plan may be a COLLSCAN."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.query_plans import collection_scans, recording_database
from weft_cli.ladder import DatabaseHandle
from weft_notifications.storage import NotificationsStorage
from weft_notifications.storage.inbox import NewItem
from weft_notifications.storage.live import CounterChanges

Doc = dict[str, Any]


async def test_the_streams_reads_use_indexes(database: DatabaseHandle) -> None:
    async with recording_database(database.url, "weft_notifications_plans") as (db, recorder):
        storage = NotificationsStorage(db)
        await storage.create_indexes()
        people = [f"p{i}" for i in range(30)]
        for n in range(3):
            fields = {
                "type": "join_requested",
                "title": "t",
                "text": "x",
                "key": f"k{n}",
                "created_at": datetime.now(UTC),
            }
            await storage.inbox.deliver([NewItem(user, "in_app", fields) for user in people])
        recorder.commands.clear()

        assert (await storage.inbox.counter("p1"))["seq"] == 3
        assert [d["seq"] for d in await storage.inbox.after("p1", 1, 100)] == [2, 3]
        assert (await CounterChanges(db).positions(["p1", "p2", "nobody"])) == {"p1": (3, 3), "p2": (3, 3)}

        explained, scans = await collection_scans(db, recorder.commands)
        assert explained == 3
        assert scans == []
