"""Library items (`resources`, DOCUMENTS.md).

A library page merges several keyset streams, each one an equality query through an
index plus one trailing range on `created_at`: the community's own items (one query
per visibility the caller may see), the `partners` items of each linked community,
and the items explicitly shared with it. Equalities and one range are what both
SecantusDB planners and mongod read straight off an index; an `$in` over the linked
communities with a sort would not be (docs/secantusdb.md, items 9 and 13a).
A keyset step after (created_at, _id) is two queries (the rest of the same instant,
then the older ones) rather than one `$or`.
"""

from __future__ import annotations

import heapq
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DESCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session

# Lists never carry a note's text: an item's page does.
LISTED = {"note_markdown": 0, "note_html": 0}
ORDER = [("created_at", DESCENDING), ("_id", DESCENDING)]


@dataclass(frozen=True, slots=True)
class Stream:
    """One keyset stream of a library page: the equalities that select it (values
    from typed parameters only, never a client's dict)."""

    match: Mapping[str, str]


def own_stream(community_id: str, status: str, visibility: str, *, kind: str | None, tag: str | None) -> Stream:
    return Stream(_narrowed({"community_id": community_id, "status": status, "visibility": visibility}, kind, tag))


def shared_stream(community_id: str, status: str, *, kind: str | None, tag: str | None) -> Stream:
    return Stream(_narrowed({"shared_with": community_id, "status": status}, kind, tag))


def _narrowed(match: dict[str, str], kind: str | None, tag: str | None) -> dict[str, str]:
    # A tag is the narrower filter: with both, the tag index is read and the kind is
    # checked on what it returns (a filter field outside the index makes py scan).
    if tag is not None:
        match["tags"] = tag
    elif kind is not None:
        match["kind"] = kind
    return match


def sort_key(doc: Doc) -> tuple[datetime, str]:
    return doc["created_at"], doc["_id"]


class Items:
    """`touch` is told of every write, in its transaction: search re-reads what changed."""

    def __init__(self, collection: AsyncCollection[Doc], touch: Callable[[str], Awaitable[None]]) -> None:
        self.collection = collection
        self.touch = touch

    async def create_indexes(self) -> None:
        for prefix in (["community_id", "status", "visibility"], ["shared_with", "status"]):
            for narrower in ([], ["kind"], ["tags"]):
                keys = [(name, 1) for name in [*prefix, *narrower]]
                await self.collection.create_index([*keys, ("created_at", DESCENDING), ("_id", DESCENDING)])

    async def insert(self, doc: Doc) -> None:
        await self.collection.insert_one(doc, session=current_session())
        await self.touch(doc["_id"])

    async def get(self, resource_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": resource_id}, session=current_session())

    async def update(
        self,
        resource_id: str,
        *,
        fields: Doc | None = None,
        inc: Mapping[str, int] | None = None,
        add_to: Mapping[str, str] | None = None,
        pull: Mapping[str, str] | None = None,
    ) -> Doc:
        """Set `fields`, add `inc`, add to / pull from sets; the document after."""
        update: Doc = {}
        for operator, value in (("$set", fields), ("$inc", inc), ("$addToSet", add_to), ("$pull", pull)):
            if value:
                update[operator] = dict(value)
        written = await self.collection.find_one_and_update(
            {"_id": resource_id}, update, return_document=ReturnDocument.AFTER, session=current_session()
        )
        if written is None:  # callers read the item in the same transaction
            raise LookupError(f"no resource {resource_id}")
        await self.touch(resource_id)
        return written

    async def page(self, streams: Sequence[Stream], *, after: tuple[datetime, str] | None, limit: int) -> list[Doc]:
        """Up to `limit` items of the union of `streams`, newest first, after the keyset
        `after`; an item in several streams comes once."""
        batches = [await self._stream_page(s, after=after, limit=limit) for s in streams]
        merged: list[Doc] = []
        seen: set[str] = set()
        for doc in heapq.merge(*batches, key=sort_key, reverse=True):
            if doc["_id"] not in seen:
                seen.add(doc["_id"])
                merged.append(doc)
                if len(merged) == limit:
                    break
        return merged

    async def _stream_page(self, stream: Stream, *, after: tuple[datetime, str] | None, limit: int) -> list[Doc]:
        session = current_session()
        match: dict[str, Any] = dict(stream.match)
        found: list[Doc] = []
        if after is not None:
            same_instant = {**match, "created_at": after[0], "_id": {"$lt": after[1]}}
            cursor = self.collection.find(same_instant, projection=LISTED, session=session)
            found = await cursor.sort(ORDER).limit(limit).to_list()
            match["created_at"] = {"$lt": after[0]}
        if len(found) < limit:
            cursor = self.collection.find(match, projection=LISTED, session=session)
            found += await cursor.sort(ORDER).limit(limit - len(found)).to_list()
        return found
