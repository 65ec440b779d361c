"""Every query of the resources service (DOCUMENTS.md describes the documents).

Each query passes `session=current_session()`, so use cases never see sessions and
a use case called from a message handler reads and writes in the handler's
transaction. Filters name only fields of the index they read through; tests run
`explain` on each.
"""

from __future__ import annotations

from pymongo.asynchronous.database import AsyncDatabase

from weft_resources.domain.documents import Doc
from weft_resources.storage.collections import CollectionStore
from weft_resources.storage.curation import CurationStore
from weft_resources.storage.discussion_extras import PostEdits, PostReactions, ThreadFollows
from weft_resources.storage.erasure import PersonErasure
from weft_resources.storage.files import FileContents
from weft_resources.storage.items import Items
from weft_resources.storage.membership_view import MembershipView
from weft_resources.storage.moderation import ModeratedContent
from weft_resources.storage.moderation_log import ModerationLog
from weft_resources.storage.replies import Replies
from weft_resources.storage.reports import Reports
from weft_resources.storage.search_feed import SearchFeed
from weft_resources.storage.threads import Threads
from weft_resources.storage.versions import Versions
from weft_shared.storage.client import ensure_collection


class ResourcesStorage:
    def __init__(self, db: AsyncDatabase[Doc]) -> None:
        self.db = db
        self.membership = MembershipView(db)
        self.search_feed = SearchFeed(db)
        self.items = Items(db.resources, touch=lambda resource_id: self.search_feed.touch("resource", resource_id))
        self.versions = Versions(db.resource_versions)
        self.file_contents = FileContents(db)
        self.threads = Threads(db, touch=lambda thread_id: self.search_feed.touch("thread", thread_id))
        self.replies = Replies(db, touch=lambda reply_id: self.search_feed.touch("reply", reply_id))
        self.post_edits = PostEdits(db)
        self.post_reactions = PostReactions(db)
        self.thread_follows = ThreadFollows(db)
        self.curation = CurationStore(db, touch=lambda resource_id: self.search_feed.touch("resource", resource_id))
        self.collections = CollectionStore(db)
        self.reports = Reports(db)
        self.moderation_log = ModerationLog(db)
        self.moderated = ModeratedContent(db, touch=self.search_feed.touch)
        self.erasure = PersonErasure(db)

    async def create_indexes(self) -> None:
        """Idempotent, on every start. Every collection exists before a transaction
        writes to it (index creation makes most of them; the others are made here)."""
        await self.membership.create_indexes()
        await ensure_collection(self.membership.communities)
        await self.items.create_indexes()
        await self.versions.create_indexes()
        await self.file_contents.create_indexes()
        await self.search_feed.create_indexes()
        await ensure_collection(self.search_feed.meta)
        await self.threads.create_indexes()
        await self.replies.create_indexes()
        await self.post_edits.create_indexes()
        await self.post_reactions.create_indexes()
        await self.thread_follows.create_indexes()
        await self.curation.create_indexes()
        await self.collections.create_indexes()
        await self.reports.create_indexes()
        await self.moderation_log.create_indexes()
        await self.moderated.create_indexes()
