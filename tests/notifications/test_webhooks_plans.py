"""Every query the webhook storage sends reads through an index: each is recorded
off the wire while every storage method runs, then `explain`ed, and no winning plan
may contain a COLLSCAN."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support.query_plans import collection_scans, public_methods, recording_database
from weft_notifications.storage.webhooks import Webhooks
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id

Doc = dict[str, Any]


async def test_every_webhook_query_reads_through_an_index(database: Any) -> None:
    async with recording_database(database.url, "weft_webhook_plans") as (db, recorder):
        store = Webhooks(db)
        await store.create_indexes()
        at = now()
        hooks = [new_id() for _ in range(3)]
        for wid in hooks:
            doc = {"_id": wid, "scope": "c1", "enabled": True, "types": ["*"], "url": "https://example.org/h"}
            await store.insert(doc)
        deliveries = [
            {
                "_id": new_id(),
                "webhook_id": hooks[0],
                "seq": seq,
                "message_id": f"m{seq}",
                "status": "pending",
                "next_attempt_at": at,
                "attempts": 0,
            }
            for seq in range(5)
        ]
        recorder.commands.clear()
        called = set()

        async def run(name: str, *args: Any, **kwargs: Any) -> Any:
            called.add(name)
            return await getattr(store, name)(*args, **kwargs)

        await run("record", deliveries[:3])
        await run("record_due", deliveries[3:], at)
        assert [d["_id"] for d in await run("unscheduled", 10)] == [d["_id"] for d in deliveries[:3]]
        await run("schedule", hooks[0], [d["_id"] for d in deliveries[:3]], at)
        assert await run("unscheduled", 10) == []
        await run("make_due", hooks, at)
        await run("get", hooks[0])
        await run("in_scope", "c1", hooks[0])
        await run("page", "c1", before=None, limit=2)
        await run("page", "c1", before=hooks[2], limit=2)
        await run("update", hooks[1], {"description": "x"})
        await run("enabled_in", "c1")
        await run("delivery", hooks[0], deliveries[0]["_id"])
        await run("delivery_page", hooks[0], before=None, limit=2)
        await run("delivery_page", hooks[0], before=deliveries[3]["_id"], limit=2)
        assert len(await run("pending", hooks[0], 10)) == 5
        head = await run("head", hooks[0])
        assert head["_id"] == deliveries[0]["_id"]
        await run("update_delivery", deliveries[0]["_id"], {"status": "succeeded"})
        assert await run("due_queues", at, 10)
        assert await run("claim", hooks[0], "me", at, at + timedelta(seconds=40))
        assert await run("renew", hooks[0], "me", at + timedelta(seconds=80))
        assert await run("holds", hooks[0], "me")
        await run("release", hooks[0], "me", at)
        await run("delete", hooks[2])

        assert called == public_methods(Webhooks) - {"insert"}
        explained, problems = await collection_scans(db, recorder.commands)
        assert explained >= 18 and not problems, "\n".join(problems)
