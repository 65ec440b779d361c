"""What every repository of this service shares."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
Database = AsyncDatabase[Doc]


def aggregate(collection: str, key: str) -> str:
    """The outbox name of what a message is about: messages about one aggregate go
    out in commit order, so a consumer never sees an older state after a newer one."""
    return f"{collection}/{key}"
