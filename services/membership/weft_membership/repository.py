"""Every MongoDB query of the membership service.

Filters are built here from typed values only (ids, enums, validated strings),
never from request dicts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from weft_membership.domain import REJOINABLE, MemberStatus, Visibility
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Outgoing, Transaction, UnitOfWork

Doc = dict[str, Any]
Entries = Sequence[Outgoing]
Write = Callable[[Transaction], Awaitable[Doc | None]]


def membership_id(community_id: str, user_id: str) -> str:
    # Natural key as _id: one document per (community, person), unique for free.
    return f"{community_id}:{user_id}"


async def create_indexes(db: AsyncDatabase[Doc]) -> None:
    await db.communities.create_index("slug", unique=True, name="slug_unique")
    await db.communities.create_index([("visibility", ASCENDING), ("archived", ASCENDING), ("slug", ASCENDING)])
    await db.communities.create_index("search_terms")
    await db.communities.create_index("tags")
    await db.memberships.create_index([("community_id", ASCENDING), ("status", ASCENDING), ("user_id", ASCENDING)])
    await db.memberships.create_index([("user_id", ASCENDING), ("status", ASCENDING)])
    await db.memberships.create_index("request.id")
    await db.invitations.create_index("token_hash", unique=True)
    await db.invitations.create_index([("community_id", ASCENDING), ("status", ASCENDING)])
    await db.links.create_index("pair_key", unique=True)
    await db.links.create_index([("from_community_id", ASCENDING), ("status", ASCENDING)])
    await db.links.create_index([("to_community_id", ASCENDING), ("status", ASCENDING)])
    await db.users.create_index("expertise_terms")
    await db.users.create_index("search_terms")


class Repository:
    """Every write that announces something commits with its messages (`_announcing`)."""

    def __init__(self, db: AsyncDatabase[Doc], uow: UnitOfWork) -> None:
        self.db = db
        self.uow = uow
        self.communities: AsyncCollection[Doc] = db.communities
        self.memberships: AsyncCollection[Doc] = db.memberships
        self.invitations: AsyncCollection[Doc] = db.invitations
        self.links: AsyncCollection[Doc] = db.links
        self.users: AsyncCollection[Doc] = db.users

    async def _announcing(self, aggregate: str, write: Write, entries: Entries) -> Doc | None:
        return await self.uow.write_announcing(aggregate, write, entries)

    # -- communities -------------------------------------------------------

    async def insert_community(self, doc: Doc, entries: Entries) -> Doc | None:
        """Insert; None if the slug is taken."""
        full = {**doc, "rev": 1}

        async def insert(tx: Transaction) -> Doc:
            await self.communities.insert_one(full, session=tx.session)
            return full

        try:
            return await self._announcing(f"communities/{doc['_id']}", insert, entries)
        except DuplicateKeyError:
            return None

    async def get_community(self, community_id: str) -> Doc | None:
        return await self.communities.find_one({"_id": community_id})

    async def update_community(self, community: Doc, update: Doc, entries: Entries) -> Doc | None:
        """Optimistic concurrency on `rev`: None if someone changed it meanwhile."""
        update = dict(update)
        update["$inc"] = {**update.get("$inc", {}), "rev": 1}

        async def write(tx: Transaction) -> Doc | None:
            return await self.communities.find_one_and_update(
                {"_id": community["_id"], "rev": community["rev"]},
                update,
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )

        return await self._announcing(f"communities/{community['_id']}", write, entries)

    async def directory_page(
        self,
        *,
        my_community_ids: list[str],
        terms: list[str],
        tag: str | None,
        after_slug: str | None,
        limit: int,
    ) -> list[Doc]:
        visible: Doc = {
            "$or": [
                {"visibility": {"$in": [Visibility.PUBLIC.value, Visibility.PRIVATE.value]}},
                {"_id": {"$in": my_community_ids}},
            ]
        }
        query: Doc = {"$and": [visible, {"archived": False}]}
        if terms:
            query["$and"].append({"search_terms": {"$all": terms}})
        if tag:
            query["$and"].append({"tags": tag})
        if after_slug is not None:
            query["$and"].append({"slug": {"$gt": after_slug}})
        cursor = self.communities.find(query, projection={"search_terms": 0})
        return await cursor.sort("slug", ASCENDING).limit(limit).to_list()

    async def communities_by_ids(self, ids: list[str]) -> list[Doc]:
        return await self.communities.find({"_id": {"$in": ids}}, projection={"search_terms": 0}).to_list()

    async def public_community_ids(self) -> list[str]:
        return [str(v) for v in await self.communities.distinct("_id", {"visibility": Visibility.PUBLIC.value})]

    # -- memberships -------------------------------------------------------

    async def get_membership(self, community_id: str, user_id: str) -> Doc | None:
        return await self.memberships.find_one({"_id": membership_id(community_id, user_id)})

    async def ensure_active_membership(self, community_id: str, user_id: str, via: str, extra: Doc) -> None:
        """Idempotent: make (community, user) active without announcing it."""
        key = membership_id(community_id, user_id)
        await self.memberships.update_one(
            {"_id": key},
            {
                "$set": {"status": MemberStatus.ACTIVE.value, "via": via, "joined_at": now(), **extra},
                "$setOnInsert": {"community_id": community_id, "user_id": user_id},
            },
            upsert=True,
        )

    async def enter(self, community_id: str, user_id: str, fields: Doc, entries: Entries) -> Doc | None:
        """Move to a new status from nothing or a rejoinable status, atomically.
        None if the document is in another status (active, pending, banned)."""
        key = membership_id(community_id, user_id)

        async def write(tx: Transaction) -> Doc | None:
            return await self.memberships.find_one_and_update(
                {"_id": key, "status": {"$in": [s.value for s in REJOINABLE]}},
                {"$set": fields, "$setOnInsert": {"community_id": community_id, "user_id": user_id}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )

        try:
            return await self._announcing(f"memberships/{key}", write, entries)
        except DuplicateKeyError:  # it exists in another status
            return None

    async def transition(
        self,
        community_id: str,
        user_id: str,
        *,
        expected: Doc,
        update: Doc,
        entries: Entries,
    ) -> Doc | None:
        """Guarded state change: applies only if the document still matches `expected`."""
        key = membership_id(community_id, user_id)

        async def write(tx: Transaction) -> Doc | None:
            return await self.memberships.find_one_and_update(
                {"_id": key, **expected}, update, return_document=ReturnDocument.AFTER, session=tx.session
            )

        return await self._announcing(f"memberships/{key}", write, entries)

    async def count_active(self, community_id: str) -> int:
        return await self.memberships.count_documents(
            {"community_id": community_id, "status": MemberStatus.ACTIVE.value}
        )

    async def active_community_ids(self, user_id: str, limit: int = 1000) -> list[str]:
        docs = (
            await self.memberships.find(
                {"user_id": user_id, "status": MemberStatus.ACTIVE.value}, projection={"community_id": 1}
            )
            .limit(limit)
            .to_list()
        )
        return [d["community_id"] for d in docs]

    async def members_page(
        self,
        community_id: str,
        *,
        only: list[str] | None,
        exclude: list[str],
        after_user: str | None,
        limit: int,
    ) -> list[Doc]:
        query: Doc = {"community_id": community_id, "status": MemberStatus.ACTIVE.value}
        user_filter: Doc = {}
        if only is not None:
            user_filter["$in"] = only
        if exclude:
            user_filter["$nin"] = exclude
        if after_user is not None:
            user_filter["$gt"] = after_user
        if user_filter:
            query["user_id"] = user_filter
        cursor = self.memberships.find(query)
        return await cursor.sort("user_id", ASCENDING).limit(limit).to_list()

    async def pending_requests_page(self, community_id: str, *, after_user: str | None, limit: int) -> list[Doc]:
        query: Doc = {"community_id": community_id, "status": MemberStatus.PENDING.value}
        if after_user is not None:
            query["user_id"] = {"$gt": after_user}
        cursor = self.memberships.find(query)
        return await cursor.sort("user_id", ASCENDING).limit(limit).to_list()

    async def find_request(self, community_id: str, request_id: str) -> Doc | None:
        return await self.memberships.find_one({"community_id": community_id, "request.id": request_id})

    async def visible_people_ids(self, community_ids: list[str]) -> list[str]:
        values = await self.memberships.distinct(
            "user_id", {"community_id": {"$in": community_ids}, "status": MemberStatus.ACTIVE.value}
        )
        return [str(v) for v in values]

    # -- users -------------------------------------------------------------

    async def ensure_user(self, user_id: str, email: str | None, name: str | None) -> None:
        update: Doc = {
            "$setOnInsert": {
                "display_name": name,
                "bio": "",
                "organisation": "",
                "expertise": [],
                "interests": [],
                "expertise_terms": [],
                "search_terms": [],
                "created_at": now(),
            }
        }
        if email:
            update["$set"] = {"email": email}
        await self.users.update_one({"_id": user_id}, update, upsert=True)

    async def get_user(self, user_id: str) -> Doc | None:
        return await self.users.find_one({"_id": user_id})

    async def users_by_ids(self, ids: list[str]) -> dict[str, Doc]:
        docs = await self.users.find({"_id": {"$in": ids}}, projection={"display_name": 1}).to_list()
        return {d["_id"]: d for d in docs}

    async def update_profile(self, user_id: str, fields: Doc, entries: Entries) -> Doc | None:

        async def write(tx: Transaction) -> Doc | None:
            return await self.users.find_one_and_update(
                {"_id": user_id},
                {"$set": {**fields, "updated_at": now()}},
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )

        return await self._announcing(f"users/{user_id}", write, entries)

    async def people_page(
        self,
        *,
        ids: list[str],
        expertise: str | None,
        terms: list[str],
        after_user: str | None,
        limit: int,
    ) -> list[Doc]:
        id_filter: Doc = {"$in": ids}
        if after_user is not None:
            id_filter["$gt"] = after_user
        query: Doc = {"_id": id_filter}
        if expertise:
            query["expertise_terms"] = expertise
        if terms:
            query["search_terms"] = {"$all": terms}
        cursor = self.users.find(query, projection={"email": 0})
        return await cursor.sort("_id", ASCENDING).limit(limit).to_list()

    # -- invitations -------------------------------------------------------

    async def insert_invitation(self, doc: Doc, entries: Entries) -> Doc:

        async def insert(tx: Transaction) -> Doc:
            await self.invitations.insert_one(doc, session=tx.session)
            return doc

        return await self._announcing(f"invitations/{doc['_id']}", insert, entries) or doc

    async def get_invitation_by_hash(self, token_hash: str) -> Doc | None:
        return await self.invitations.find_one({"token_hash": token_hash})

    async def claim_invitation(self, invitation_id: str, user_id: str, entries: Entries) -> Doc | None:
        """Single use: only a pending, unexpired invitation can be claimed."""

        async def write(tx: Transaction) -> Doc | None:
            return await self.invitations.find_one_and_update(
                {"_id": invitation_id, "status": "pending", "expires_at": {"$gt": now()}},
                {"$set": {"status": "accepted", "accepted_by": user_id, "accepted_at": now()}},
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )

        return await self._announcing(f"invitations/{invitation_id}", write, entries)

    # -- links -------------------------------------------------------------

    async def propose_link(self, new_id: str, pair_key: str, fields: Doc, entries: Entries) -> Doc | None:
        """Create, or revive a removed link between the same pair; None if one is live."""

        async def write(tx: Transaction) -> Doc | None:
            revived = await self.links.find_one_and_update(
                {"pair_key": pair_key, "status": "removed"},
                {"$set": fields},
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )
            if revived is not None:
                return revived
            doc = {"_id": new_id, "pair_key": pair_key, **fields}
            await self.links.insert_one(doc, session=tx.session)
            return doc

        try:
            return await self._announcing(f"links/{pair_key}", write, entries)
        except DuplicateKeyError:
            return None

    async def get_link(self, link_id: str) -> Doc | None:
        return await self.links.find_one({"_id": link_id})

    async def transition_link(self, link: Doc, expected_status: str, fields: Doc, entries: Entries) -> Doc | None:

        async def write(tx: Transaction) -> Doc | None:
            return await self.links.find_one_and_update(
                {"_id": link["_id"], "status": expected_status},
                {"$set": fields},
                return_document=ReturnDocument.AFTER,
                session=tx.session,
            )

        return await self._announcing(f"links/{link['pair_key']}", write, entries)

    async def links_of(self, community_id: str, *, statuses: list[str], limit: int = 500) -> list[Doc]:
        query: Doc = {
            "$or": [{"from_community_id": community_id}, {"to_community_id": community_id}],
            "status": {"$in": statuses},
        }
        return await self.links.find(query).sort("_id", ASCENDING).limit(limit).to_list()
