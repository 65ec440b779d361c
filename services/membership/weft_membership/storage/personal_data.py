"""What the membership service holds about one person, for their export: their profile,
their memberships (join requests and code-of-conduct acceptances are part of them), the
invitations they sent and those sent to them (never the token hashes), and the
communities they created."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING

from weft_membership.storage.documents import Database
from weft_shared.privacy.personal_records import one, records

Doc = dict[str, Any]
INVITATION_HIDDEN = {"token_hash": 0}


class MembershipPersonalData:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create_indexes(self) -> None:
        """Lookups only an export makes: invitations by inviter and invitee."""
        await self._db.invitations.create_index([("invited_by", ASCENDING)])
        await self._db.invitations.create_index([("invited_user_id", ASCENDING)])

    async def gather(self, user_id: str) -> dict[str, Any]:
        db = self._db
        memberships = await records(db.memberships, {"user_id": user_id})
        community_ids = sorted({m["community_id"] for m in memberships})
        communities = (
            await records(
                db.communities,
                {"_id": {"$in": community_ids}},
                projection={
                    "name": 1,
                    "slug": 1,
                    "purpose": 1,
                    "visibility": 1,
                    "created_by": 1,
                    "owners": 1,
                    "facilitators": 1,
                },
            )
            if community_ids
            else []
        )
        # The role lives with the community (its owners and facilitators): say it per membership,
        # and keep other people's ids out of their export.
        roles = {c["_id"]: _role_of(c, user_id) for c in communities}
        for community in communities:
            community.pop("owners", None)
            community.pop("facilitators", None)
        for membership in memberships:
            if membership.get("status") == "active":
                membership["role"] = roles.get(membership["community_id"], "member")
        return {
            "profile": await one(db.users, {"_id": user_id}, projection={"search_terms": 0, "expertise_terms": 0}),
            "memberships": memberships,
            "communities_of_your_memberships": communities,
            "invitations_sent": await records(db.invitations, {"invited_by": user_id}, projection=INVITATION_HIDDEN),
            "invitations_received": await records(
                db.invitations, {"invited_user_id": user_id}, projection=INVITATION_HIDDEN
            ),
        }


def _role_of(community: Doc, user_id: str) -> str:
    if user_id in community.get("owners", ()):
        return "owner"
    if user_id in community.get("facilitators", ()):
        return "facilitator"
    return "member"
