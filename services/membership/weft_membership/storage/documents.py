"""What every repository of this service shares."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
Database = AsyncDatabase[Doc]


def aggregate(collection: str, key: str) -> str:
    """The outbox name of what a message is about: messages about one aggregate go
    out in commit order, so a consumer never sees an older state after a newer one."""
    return f"{collection}/{key}"


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
