"""The versions of library items (`resource_versions`, DOCUMENTS.md): one document per
version, `_id` = `<resource_id>:<number>`, so a version is written once and a racing
second writer of the same number fails on the key (and its transaction retries).

Notes and files share it: `add` takes the whole version document, whichever kind made it.
"""

from __future__ import annotations

from pymongo import DESCENDING
from pymongo.asynchronous.collection import AsyncCollection

from weft_resources.domain.documents import Doc
from weft_shared.storage.unit_of_work import current_session

# A version list shows who changed what and when, not the text itself.
LISTED = {"note_markdown": 0, "extracted_text": 0}


def version_key(resource_id: str, number: int) -> str:
    return f"{resource_id}:{number}"


class Versions:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create_indexes(self) -> None:
        await self.collection.create_index([("resource_id", 1), ("number", DESCENDING)])

    async def add(self, version: Doc) -> None:
        """Store one version; `version` has every field of DOCUMENTS.md's
        `resource_versions` for its kind (its `_id` is `version_key(resource_id, number)`)."""
        if version.get("_id") != version_key(version["resource_id"], version["number"]):
            raise ValueError("a version's _id is <resource_id>:<number>")
        await self.collection.insert_one(version, session=current_session())

    async def get(self, resource_id: str, number: int) -> Doc | None:
        return await self.collection.find_one({"_id": version_key(resource_id, number)}, session=current_session())

    async def page(self, resource_id: str, *, before: int | None, limit: int) -> list[Doc]:
        """Up to `limit` versions of the item, newest first, numbered below `before`."""
        query: Doc = {"resource_id": resource_id}
        if before is not None:
            query["number"] = {"$lt": before}
        cursor = self.collection.find(query, projection=LISTED, session=current_session())
        return await cursor.sort("number", DESCENDING).limit(limit).to_list()
