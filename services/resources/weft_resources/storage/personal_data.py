"""What the resources service holds about one person, for their export: library items
and versions they created (uploaded files as metadata and their download paths, not
bytes), collections, threads and replies they wrote (with earlier texts), reactions,
useful marks, follows and the reports they filed."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase

from weft_shared.privacy.personal_records import records

Doc = dict[str, Any]
# Search bookkeeping and copies kept for sorting are not about the person.
ITEM_HIDDEN = {"note_html": 0, "review_due_key": 0, "endorsed_key": 0, "review_next": 0}
POST_HIDDEN = {"body_html": 0}


def _with_download_path(item: Doc) -> Doc:
    if item.get("file"):
        return {**item, "download_path": f"/v1/resources/{item['_id']}/file"}
    return item


def _version_with_download_path(version: Doc) -> Doc:
    if version.get("file"):
        path = f"/v1/resources/{version['resource_id']}/versions/{version['number']}/file"
        return {**version, "download_path": path}
    return version


class ResourcesPersonalData:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self._db = db

    async def create_indexes(self) -> None:
        """Lookups by author that only an export makes (the API lists by community)."""
        db = self._db
        await db.resources.create_index([("created_by", ASCENDING)])
        await db.resource_versions.create_index([("created_by", ASCENDING)])
        await db.collections.create_index([("created_by", ASCENDING)])
        await db.threads.create_index([("author_id", ASCENDING)])
        await db.replies.create_index([("author_id", ASCENDING)])
        await db.useful_marks.create_index([("user_id", ASCENDING)])
        await db.thread_follows.create_index([("user_id", ASCENDING)])
        await db.reports.create_index([("reporter_id", ASCENDING)])

    async def gather(self, user_id: str) -> dict[str, Any]:
        db = self._db
        items = await records(db.resources, {"created_by": user_id}, projection=ITEM_HIDDEN)
        versions = await records(db.resource_versions, {"created_by": user_id}, projection={"extracted_text": 0})
        threads = await records(db.threads, {"author_id": user_id}, projection=POST_HIDDEN)
        replies = await records(db.replies, {"author_id": user_id}, projection=POST_HIDDEN)
        post_ids = [p["_id"] for p in threads] + [p["_id"] for p in replies]
        edits = await records(db.post_edits, {"post_id": {"$in": post_ids}}) if post_ids else []
        return {
            "library_items_created": [_with_download_path(i) for i in items],
            "library_versions_created": [_version_with_download_path(v) for v in versions],
            "collections_created": await records(db.collections, {"created_by": user_id}),
            "threads_started": threads,
            "replies_written": replies,
            "earlier_texts_of_your_posts": edits,
            "reactions": await records(db.post_reactions, {"user_id": user_id}),
            "useful_marks": await records(db.useful_marks, {"user_id": user_id}),
            "threads_followed": await records(db.thread_follows, {"user_id": user_id}),
            "reports_filed": await records(db.reports, {"reporter_id": user_id}),
        }
