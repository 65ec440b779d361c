"""What every repository of this service shares."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing, suppress
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import CollectionInvalid, OperationFailure

Doc = dict[str, Any]
Database = AsyncDatabase[Doc]


def aggregate(collection: str, key: str) -> str:
    """The outbox name of what a message is about: messages about one aggregate go
    out in commit order, so a consumer never sees an older state after a newer one."""
    return f"{collection}/{key}"


async def ensure_collection(collection: AsyncCollection[Doc]) -> None:
    """Create a collection no index creates: transactions write only to existing ones."""
    if collection.name not in await collection.database.list_collection_names():
        with suppress(CollectionInvalid, OperationFailure):  # another replica created it just now
            await collection.database.create_collection(collection.name)


async def first_matching(batches: AsyncGenerator[list[Doc], None], keep: Callable[[Doc], bool], want: int) -> list[Doc]:
    """The first `want` documents that `keep` accepts, from batches read in order.

    For a condition no index serves beside the one that does (a second search
    term): the index reads candidates in key order and this applies the rest,
    reading on only while the page is not full."""
    found: list[Doc] = []
    async with aclosing(batches) as reading:
        async for batch in reading:
            found.extend(d for d in batch if keep(d))
            if len(found) >= want:
                break
    return found[:want]
