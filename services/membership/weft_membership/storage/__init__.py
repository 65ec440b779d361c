"""Every query of the membership service, one repository per collection.

Filters are built here from typed values only (ids, enums, validated strings),
never from request dicts. Every query passes `session=current_session()`, so
inside a use case's transaction it reads and writes in that transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from weft_membership.storage.communities import Communities
from weft_membership.storage.documents import Database
from weft_membership.storage.erasure import PersonErasure
from weft_membership.storage.invitations import Invitations
from weft_membership.storage.links import Links
from weft_membership.storage.memberships import Memberships
from weft_membership.storage.people import People
from weft_membership.storage.slugs import Slugs


@dataclass(frozen=True, slots=True)
class Storage:
    communities: Communities
    memberships: Memberships
    invitations: Invitations
    links: Links
    people: People
    slugs: Slugs
    erasure: PersonErasure

    @classmethod
    def on(cls, db: Database) -> Storage:
        return cls(
            Communities(db), Memberships(db), Invitations(db), Links(db), People(db), Slugs(db), PersonErasure(db)
        )

    async def create_indexes(self) -> None:
        """Idempotent; also creates the collections, which transactions need to exist."""
        for repository in (self.slugs, self.communities, self.memberships, self.invitations, self.links, self.people):
            await repository.create_indexes()
