"""Every query of the discussions storage (threads, replies, edits, reactions, follows)
reads through an index: each is recorded off the wire while every storage method runs,
then `explain`ed, and no winning plan may contain a COLLSCAN."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests.support.query_plans import Recorder, collection_scans
from weft_resources.storage import ResourcesStorage

Doc = dict[str, Any]


class Calls:
    """A storage object whose method calls are counted, to prove every method ran."""

    def __init__(self, target: object) -> None:
        self._target = target
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if callable(attr):
            self.called.add(name)
        return attr

    def methods(self) -> set[str]:
        return {
            name
            for name, _ in inspect.getmembers(type(self._target), inspect.iscoroutinefunction)
            if not name.startswith("_") and name != "create_indexes"
        }


@pytest.fixture
async def recorded(database: Any) -> AsyncIterator[tuple[ResourcesStorage, Recorder]]:
    recorder = Recorder()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True, event_listeners=[recorder])
    name = f"resources_plans_{secrets.token_hex(4)}"
    try:
        storage = ResourcesStorage(client[name])
        await storage.create_indexes()
        recorder.commands.clear()
        yield storage, recorder
    finally:
        await client.drop_database(name)
        await client.close()


def a_thread(n: int, community_id: str, kind: str, at: datetime) -> Doc:
    return {
        "_id": f"t{n:03}",
        "community_id": community_id,
        "kind": kind,
        "listed": kind != "comments",
        "resource_id": f"r{n:03}" if kind == "comments" else None,
        "title": f"Thread {n}",
        "body_markdown": "b",
        "body_html": "<p>b</p>",
        "author_id": f"u{n % 4}",
        "anonymous": False,
        "chatham_house": False,
        "locked": False,
        "reply_count": 0,
        "activity_at": at,
        "reaction_counts": {},
        "edit_count": 0,
        "created_at": at,
    }


async def test_every_discussion_query_reads_through_an_index(recorded: tuple[ResourcesStorage, Recorder]) -> None:
    storage, recorder = recorded
    base = datetime.now(UTC).replace(microsecond=0)
    threads, replies = Calls(storage.threads), Calls(storage.replies)
    edits, reactions, follows = Calls(storage.post_edits), Calls(storage.post_reactions), Calls(storage.thread_follows)
    kinds = ["discussion", "question", "announcement", "comments"]
    for n in range(40):
        # Equal activity times in pairs, so the cursor's same-instant query has work to do.
        await threads.insert(a_thread(n, f"c{n % 2}", kinds[n % 4], base - timedelta(minutes=n // 2)))
    for position in range(1, 31):
        reply = {"_id": f"p{position:03}", "thread_id": "t000", "community_id": "c0", "position": position}
        await replies.insert({**reply, "author_id": "u1", "body_markdown": "r", "quotes_reply_id": None})
        await reactions.add(reply["_id"], "u1", "heart", at=base)
        await follows.follow("t000", f"u{position}", at=base)

    first = await threads.page("c0", None, None, limit=5)
    await threads.page("c0", None, (first[-1]["activity_at"], first[-1]["_id"]), limit=5)
    await threads.page("c0", "question", None, limit=5)
    await threads.page("c1", "question", (base - timedelta(minutes=3), "t007"), limit=5)
    await threads.get("t000")
    await threads.update("t000", fields={"activity_at": base}, inc={"reply_count": 1})
    comments = a_thread(99, "c1", "comments", base)
    await threads.open_comments({**comments, "_id": "comments-r500", "resource_id": "r500"})
    await replies.get("p001")
    await replies.many(["p001", "p002", "p003"])
    await replies.page("t000", 10, limit=11)
    await replies.update("p001", fields={"body_markdown": "x"}, inc={"edit_count": 1})
    await edits.keep("p001", 1, {"body_markdown": "r", "written_at": base})
    await edits.of_post("p001")
    await reactions.add("p001", "u1", "heart", at=base)  # already there: a lookup only
    await reactions.remove("p002", "u1", "heart")
    await reactions.mine("u1", ["p001", "p002", "p003"])
    await follows.unfollow("t000", "u3")
    await follows.follows("t000", "u4")
    await follows.followers("t000")
    await follows.following_of("u4", ["t000", "t002"])

    for store in (threads, replies, edits, reactions, follows):
        assert store.methods() <= store.called, f"not exercised: {store.methods() - store.called}"
    explained, problems = await collection_scans(storage.db, recorder.commands)
    assert problems == [], "\n".join(problems)
    assert explained >= len(recorder.commands) > 20
