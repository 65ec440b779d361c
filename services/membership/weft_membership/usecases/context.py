"""What every membership use case needs: the repository, the outbox relay,
message building, and the access checks that decide 404 vs 403."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pymongo.asynchronous.collection import AsyncCollection

from weft_membership.domain import Viewer, can_know_exists, can_see_details, viewer_of
from weft_membership.repository import Doc, Repository
from weft_membership.usecases.counts import MemberCounts
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.membership import CommunitySnapshot
from weft_shared.errors import Conflict, Forbidden, NotFound
from weft_shared.storage.unit_of_work import Outgoing

# Optimistic-concurrency retries before telling the caller to try again.
MAX_ATTEMPTS = 5

Mutation = Callable[[Doc, Viewer], Awaitable[tuple[Doc, list[Outgoing]] | None]]


def snapshot(community: Doc) -> CommunitySnapshot:
    coc = community.get("code_of_conduct")
    return CommunitySnapshot(
        id=community["_id"],
        slug=community["slug"],
        name=community["name"],
        purpose=community["purpose"],
        description=community.get("description", ""),
        tags=community.get("tags", []),
        visibility=community["visibility"],
        join_policy=community["join_policy"],
        archived=community.get("archived", False),
        code_of_conduct_version=coc["version"] if coc else None,
    )


class Context:
    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.member_counts = MemberCounts(repo)

    @staticmethod
    def message(payload: MessagePayload, community_id: str | None) -> Outgoing:
        return Outgoing(payload, community_id)

    async def announce(self, collection: AsyncCollection[Doc], doc: Doc | None) -> None:
        """Every membership change passes here after its write (whose messages are
        already committed and sent), so it is where the cached member count is dropped."""
        if doc is not None and collection.name == self.repo.memberships.name:
            self.member_counts.invalidate(doc["community_id"])

    async def community_for(self, community_id: str, user_id: str) -> tuple[Doc, Viewer]:
        """The community as this caller may know it; 404 if it doesn't exist for them."""
        community = await self.repo.get_community(community_id)
        if community is None:
            raise NotFound("no such community")
        membership = await self.repo.get_membership(community_id, user_id)
        viewer = viewer_of(community, user_id, membership)
        if not can_know_exists(community, viewer):
            raise NotFound("no such community")
        return community, viewer

    @staticmethod
    def require_details(community: Doc, viewer: Viewer) -> None:
        if not can_see_details(community, viewer):
            raise Forbidden("only members can see this community's details")

    @staticmethod
    def require_staff(viewer: Viewer) -> None:
        if not viewer.is_staff:
            raise Forbidden("only the community's owners and facilitators can do this")

    @staticmethod
    def require_owner(viewer: Viewer) -> None:
        if not viewer.is_owner:
            raise Forbidden("only the community's owners can do this")

    @staticmethod
    def require_open(community: Doc) -> None:
        if community.get("archived"):
            raise Conflict("the community is archived and read-only")

    async def mutate_community(self, community_id: str, user_id: str, mutation: Mutation) -> Doc:
        """Read-check-write on the community document with optimistic concurrency:
        the write applies only if nobody changed the document since it was read."""
        for _ in range(MAX_ATTEMPTS):
            community, viewer = await self.community_for(community_id, user_id)
            planned = await mutation(community, viewer)
            if planned is None:  # nothing to change
                return community
            update, entries = planned
            written = await self.repo.update_community(community, update, entries)
            if written is not None:
                await self.announce(self.repo.communities, written)
                return written
        raise Conflict("the community changed while this request ran; try again")
