"""The writes and reads of `file` library items and their versions, in the shared
collections `resources` and `resource_versions` (DOCUMENTS.md, the contract between
the resources helpers).

STAND-IN: `storage/items.py` and `storage/versions.py` (the library's) own these
collections; until they are on main the file use cases write through this module,
whose documents have exactly the contract's fields. When they arrive, these
functions become calls to theirs (`versions.insert(doc)` takes the same document).
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_shared.storage.client import ensure_collection
from weft_shared.storage.unit_of_work import current_session


def version_id(resource_id: str, number: int) -> str:
    return f"{resource_id}:{number}"


class FileItemRecords:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.items = db.resources
        self.versions = db.resource_versions

    async def create_indexes(self) -> None:
        # Lookups here are by `_id` only; the library's storage indexes the lists.
        await ensure_collection(self.items)
        await ensure_collection(self.versions)

    async def insert_item(self, item: Doc) -> None:
        await self.items.insert_one(item, session=current_session())

    async def get_item(self, resource_id: str) -> Doc | None:
        return await self.items.find_one({"_id": resource_id}, session=current_session())

    async def set_current_file(
        self, resource_id: str, *, expected_version: int, file: Doc, version: int, by: str, at: datetime
    ) -> bool:
        """Point the item at its new version, if it is still at `expected_version`."""
        result = await self.items.update_one(
            {"_id": resource_id, "version": expected_version},
            {"$set": {"file": file, "version": version, "updated_by": by, "updated_at": at}},
            session=current_session(),
        )
        return result.modified_count == 1

    async def insert_version(self, version: Doc) -> None:
        await self.versions.insert_one(version, session=current_session())

    async def get_version(self, resource_id: str, number: int) -> Doc | None:
        return await self.versions.find_one({"_id": version_id(resource_id, number)}, session=current_session())
