"""What every membership use case needs: the unit of work, the storage, and the
read that decides whether a caller may know of a community at all (404)."""

from __future__ import annotations

from dataclasses import dataclass

from weft_membership.domain.access import Viewer, Visibility, can_know_exists, viewer_of
from weft_membership.storage import Storage
from weft_membership.storage.documents import Doc
from weft_membership.storage.memberships import Memberships
from weft_shared.contracts.base import MessagePayload
from weft_shared.errors import NotFound
from weft_shared.service.actor import Person
from weft_shared.storage.erasures import ErasedPeople
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork


@dataclass(frozen=True, slots=True)
class Access:
    """A community as one person may know it, with their membership of it."""

    community: Doc
    membership: Doc | None
    viewer: Viewer


@dataclass(frozen=True, slots=True)
class Context:
    uow: UnitOfWork
    store: Storage
    erased_people: ErasedPeople

    async def access(self, community_id: str, person: Person) -> Access:
        """404 if the community does not exist for this person (hidden and not a member)."""
        community = await self.store.communities.get(community_id)
        # Read before deciding, even for an id that names nothing: the 404 for a hidden
        # community then costs what the 404 for a missing one does (nothing to time).
        membership = await self.store.memberships.get(community_id, person.id)
        if community is None:
            raise NotFound("no such community")
        viewer = viewer_of(community, person.id, membership)
        if not can_know_exists(community, viewer):
            raise NotFound("no such community")
        return Access(community, membership, viewer)

    async def knowable(self, community_ids: set[str], person: Person) -> set[str]:
        """Which of these communities `person` may know exist (the rule `access` applies):
        a list that names other communities shows only these."""
        communities = await self.store.communities.by_ids(sorted(community_ids))
        known = set()
        for community in communities:
            membership = None
            if community["visibility"] == Visibility.HIDDEN:  # only then does the membership decide
                membership = await self.store.memberships.get(community["_id"], person.id)
            if can_know_exists(community, viewer_of(community, person.id, membership)):
                known.add(community["_id"])
        return known


def announce_membership(tx: Transaction, payload: MessagePayload, community_id: str, user_id: str) -> None:
    """Announce something about one person's membership (see `Memberships.aggregate`)."""
    tx.announce(payload, aggregate=Memberships.aggregate(community_id, user_id), community_id=community_id)
