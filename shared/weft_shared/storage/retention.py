"""TTL indexes whose lifetime comes from settings, kept in step on every start.

`create_index` refuses to change the `expireAfterSeconds` of an existing index
(IndexOptionsConflict), so a changed setting is applied with `collMod`, which
changes it in place (MongoDB >= 2.2) without rebuilding the index.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

SECONDS_PER_DAY = 86400


async def ensure_ttl_index(collection: AsyncCollection[dict[str, Any]], field: str, *, days: float, name: str) -> None:
    """Documents expire `days` after the date in `field` (those without one never do)."""
    seconds = int(days * SECONDS_PER_DAY)
    existing = await _index(collection, name)
    if existing is None:
        await collection.create_index(field, expireAfterSeconds=seconds, name=name)
    elif existing.get("expireAfterSeconds") != seconds:
        await collection.database.command(
            {"collMod": collection.name, "index": {"name": name, "expireAfterSeconds": seconds}}
        )


async def ttl_of(collection: AsyncCollection[dict[str, Any]], name: str) -> int | None:
    """The `expireAfterSeconds` of the index `name`, or None if there is none."""
    index = await _index(collection, name)
    value = index.get("expireAfterSeconds") if index is not None else None
    return int(value) if value is not None else None


async def _index(collection: AsyncCollection[dict[str, Any]], name: str) -> dict[str, Any] | None:
    indexes = await collection.list_indexes()
    async for index in indexes:
        if index["name"] == name:
            found: dict[str, Any] = dict(index)
            return found
    return None
