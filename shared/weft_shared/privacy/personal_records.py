"""Reading one person's records for their export, in the handler's transaction."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]
# Bounded: an export is a copy for a person, not a bulk dump; a kind holding more says so
# in its part (`truncated`), and the archive's README explains it.
MAX_RECORDS_PER_KIND = 10_000


async def records(
    collection: AsyncCollection[Doc], query: Doc, *, projection: Doc | None = None, sort: str = "_id"
) -> list[Doc]:
    cursor = collection.find(query, projection=projection, session=current_session())
    return await cursor.sort(sort, 1).limit(MAX_RECORDS_PER_KIND).to_list()


async def one(collection: AsyncCollection[Doc], query: Doc, *, projection: Doc | None = None) -> Doc | None:
    return await collection.find_one(query, projection=projection, session=current_session())
