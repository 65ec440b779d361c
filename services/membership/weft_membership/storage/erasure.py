"""Erasing one person from membership's collections, inside the caller's transaction.

What names them goes: their profile, their memberships and join requests, the
invitations addressed to them; a ban stays, keyed by a hash of their id. What others rely on stays with them anonymised:
who created a community, sent an invitation, decided a request, proposed a link
(the actor fields then hold `ERASED_ACTOR`). These reads are by fields no API list
uses, so some scan a collection: erasure is rare, and correctness beats an index here.
"""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.domain.membership import MemberStatus
from weft_membership.storage.documents import Database, Doc
from weft_membership.storage.exports import EXPORTS, EXPORTS_PENDING
from weft_membership.storage.member_counts import MemberCounts
from weft_membership.storage.memberships import KEPT_BANS, Memberships, kept_ban_id
from weft_membership.storage.people import People
from weft_shared.messaging.outbox import VERSIONS as OUTBOX_VERSIONS
from weft_shared.storage.unit_of_work import current_session

ERASED_ACTOR = "erased-person"

# Fields that record who did something to a thing that is not theirs.
ACTOR_FIELDS: dict[str, tuple[str, ...]] = {
    "communities": ("created_by", "updated_by", "archived_by", "code_of_conduct.published_by"),
    "invitations": ("invited_by", "withdrawn_by", "accepted_by"),
    "links": ("proposed_by", "accepted_by", "removed_by"),
    "memberships": ("ended_by", "decided_by", "role_changed_by", "invited_by"),
}


class PersonErasure:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.users: AsyncCollection[Doc] = db.users
        self.memberships: AsyncCollection[Doc] = db.memberships
        self.invitations: AsyncCollection[Doc] = db.invitations
        self.communities: AsyncCollection[Doc] = db.communities
        self.counts = MemberCounts(db)

    async def email_of(self, user_id: str) -> str | None:
        doc = await self.users.find_one({"_id": user_id}, projection={"email": 1}, session=current_session())
        return doc.get("email") if doc else None

    async def erase(self, user_id: str, email: str | None) -> None:
        session = current_session()
        await self.users.delete_one({"_id": user_id}, session=session)
        aggregates = [People.aggregate(user_id)]
        async for membership in self.memberships.find({"user_id": user_id}, session=session):
            aggregates.append(Memberships.aggregate(membership["community_id"], user_id))
            if membership.get("status") == MemberStatus.ACTIVE.value:
                await self.counts.add(membership["community_id"], user_id, -1)
            if membership.get("status") == MemberStatus.BANNED.value:
                # A ban must not be escaped by erasing the account and coming back.
                ban = {
                    "_id": kept_ban_id(membership["community_id"], user_id),
                    "community_id": membership["community_id"],
                }
                await self.db[KEPT_BANS].replace_one({"_id": ban["_id"]}, ban, upsert=True, session=session)
        await self.memberships.delete_many({"user_id": user_id}, session=session)
        # The message counters of what was about them are named by their id: a person
        # who comes back starts new aggregates (their versions count from 1 again).
        await self.db[OUTBOX_VERSIONS].delete_many({"_id": {"$in": aggregates}}, session=session)
        await self.communities.update_many(
            {"$or": [{"owners": user_id}, {"facilitators": user_id}]},
            {"$pull": {"owners": user_id, "facilitators": user_id}},
            session=session,
        )
        addressed: list[Doc] = [{"invited_user_id": user_id}]
        if email:
            addressed.append({"invited_email": email.lower()})
        await self.invitations.delete_many({"$or": addressed}, session=session)
        # Their personal-data exports: the records go, so no archive can be fetched any more; the
        # archives themselves expire with the export bucket (WEFT_EXPORT_RETENTION_DAYS).
        await self.db[EXPORTS].delete_many({"user_id": user_id}, session=session)
        await self.db[EXPORTS_PENDING].delete_one({"_id": user_id}, session=session)
        for collection, fields in ACTOR_FIELDS.items():
            for field in fields:
                await self.db[collection].update_many(
                    {field: user_id}, {"$set": {field: ERASED_ACTOR}}, session=session
                )
