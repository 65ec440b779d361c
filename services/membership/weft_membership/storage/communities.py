"""The `communities` collection: one document per community, holding its staff roles."""

from __future__ import annotations

import heapq
from collections.abc import AsyncGenerator

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.domain.access import Visibility
from weft_membership.storage.documents import Database, Doc, aggregate, first_matching
from weft_shared.storage.unit_of_work import current_session

# Listed in the directory for everyone; hidden ones only for their members.
LISTED = [Visibility.PUBLIC.value, Visibility.PRIVATE.value]
# Candidates a directory search reads at a time while it filters by the other terms.
SEARCH_BATCH = 100


def _matches(community: Doc, terms: list[str], tag: str | None) -> bool:
    held = community.get("search_terms", [])
    return all(t in held for t in terms) and (tag is None or tag in community.get("tags", []))


class Communities:
    def __init__(self, db: Database) -> None:
        self.collection: AsyncCollection[Doc] = db.communities

    @staticmethod
    def aggregate(community_id: str) -> str:
        return aggregate("communities", community_id)

    async def create_indexes(self) -> None:
        # The directory, by slug within one visibility: plain, by a search term, by a tag.
        for lead in ([], ["search_terms"], ["tags"]):
            keys = [*lead, "visibility", "archived", "slug"]
            await self.collection.create_index([(k, ASCENDING) for k in keys])

    async def insert(self, doc: Doc) -> None:
        """The slug is claimed separately (`Slugs.claim`)."""
        await self.collection.insert_one(doc, session=current_session())

    async def get(self, community_id: str) -> Doc | None:
        return await self.collection.find_one({"_id": community_id}, session=current_session())

    async def set_fields(self, community_id: str, fields: Doc) -> None:
        await self.collection.update_one({"_id": community_id}, {"$set": fields}, session=current_session())

    async def directory_page(
        self,
        *,
        my_community_ids: list[str],
        terms: list[str],
        tag: str | None,
        after_slug: str | None,
        limit: int,
    ) -> list[Doc]:
        """Communities by slug after `after_slug`: the listed ones (one index range
        per visibility) merged with the caller's hidden ones."""
        pages = [await self._listed_page(v, terms, tag, after_slug, limit) for v in LISTED]
        hidden = [
            c
            for c in await self.by_ids(my_community_ids)
            if c["visibility"] == Visibility.HIDDEN.value
            and not c.get("archived")
            and (after_slug is None or c["slug"] > after_slug)
            and _matches(c, terms, tag)
        ]
        pages.append(sorted(hidden, key=lambda c: str(c["slug"])))
        merged = list(heapq.merge(*pages, key=lambda c: str(c["slug"])))[:limit]
        for community in merged:
            community.pop("search_terms", None)
        return merged

    async def _listed_page(
        self, visibility: str, terms: list[str], tag: str | None, after_slug: str | None, limit: int
    ) -> list[Doc]:
        # The index serves one search condition (the longest term, else the tag); the rest are checked here.
        indexed: Doc = {"search_terms": max(terms, key=len)} if terms else {"tags": tag} if tag else {}
        base = {**indexed, "visibility": visibility, "archived": False}
        if not terms and not tag:
            return await self._by_slug(base, after_slug, limit)
        return await first_matching(self._batches(base, after_slug), lambda c: _matches(c, terms, tag), limit)

    async def _by_slug(self, base: Doc, after_slug: str | None, limit: int) -> list[Doc]:
        query = base if after_slug is None else {**base, "slug": {"$gt": after_slug}}
        cursor = self.collection.find(query, session=current_session())
        return await cursor.sort("slug", ASCENDING).limit(limit).to_list()

    async def _batches(self, base: Doc, after_slug: str | None) -> AsyncGenerator[list[Doc], None]:
        while True:
            batch = await self._by_slug(base, after_slug, SEARCH_BATCH)
            yield batch
            if len(batch) < SEARCH_BATCH:
                return
            after_slug = batch[-1]["slug"]

    async def by_ids(self, ids: list[str]) -> list[Doc]:
        cursor = self.collection.find({"_id": {"$in": ids}}, session=current_session())
        return await cursor.to_list()

    async def public_ids(self) -> list[str]:
        values = await self.collection.distinct(
            "_id", {"visibility": Visibility.PUBLIC.value}, session=current_session()
        )
        return [str(v) for v in values]
