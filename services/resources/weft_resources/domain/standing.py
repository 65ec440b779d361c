"""What a person is to communities, from the membership view, and the one visibility
rule of the library and the discussions. Pure: no I/O (usecases/access.py reads the
facts and asks these functions).

The rules (README, "Who sees what"):
- a hidden community's content is seen only by its members, whatever its visibility:
  outside it, the community does not exist;
- a library item is seen by its community's members; a `partners` item also by members
  of communities linked with it by an active link that shares resources; a `network`
  item by anyone signed in; an item explicitly shared with a linked community also by
  that community's members, while the link is active and shares resources;
- a draft only by its creator and the community's owners and facilitators;
- content a moderator hid only by the community's owners and facilitators;
- a thread is seen by its community's members and, unless it is Chatham House, by
  members of communities linked with it (sharing resources); a `comments` thread by
  whoever may see its library item;
- posting (items, threads, replies, reactions, reports) needs an active membership of
  the community (not banned, community not archived); a partner may read, not post.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from weft_resources.domain.documents import Doc

STAFF_ROLES = ("owner", "facilitator")


@dataclass(frozen=True, slots=True)
class Standing:
    user_id: str
    member_of: frozenset[str] = frozenset()  # communities where an active member
    staff_of: frozenset[str] = frozenset()  # communities where an active owner/facilitator
    # For each community the person is in: the communities linked with it that share resources.
    linked: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def partner_of(self) -> frozenset[str]:
        """Communities whose `partners` content this person may see through a link."""
        return frozenset().union(*self.linked.values()) if self.linked else frozenset()

    def is_member(self, community_id: str) -> bool:
        return community_id in self.member_of

    def is_staff(self, community_id: str) -> bool:
        return community_id in self.staff_of

    def shared_through(self, owner_id: str, shared_with: Iterable[str]) -> bool:
        """A share with one of this person's communities that is still linked with the owner."""
        return any(owner_id in self.linked.get(d, frozenset()) for d in shared_with)


def moderated_out(doc: Doc, standing: Standing) -> bool:
    """Hidden (or removed) by a moderator, and the person is not one of the community's moderators."""
    state = (doc.get("moderation") or {}).get("state", "visible")
    return state != "visible" and not standing.is_staff(doc["community_id"])


def can_see_resource(item: Doc, standing: Standing, *, community_hidden: bool) -> bool:
    community_id = item["community_id"]
    if community_hidden and not standing.is_member(community_id):
        return False
    if moderated_out(item, standing):
        return False
    if item.get("status") == "draft":
        return item.get("created_by") == standing.user_id or standing.is_staff(community_id)
    if standing.is_member(community_id):
        return True
    if standing.shared_through(community_id, item.get("shared_with", [])):
        return True
    visibility = item.get("visibility", "community")
    if visibility == "network":
        return True
    return visibility == "partners" and community_id in standing.partner_of


def can_see_thread(thread: Doc, standing: Standing, *, community_hidden: bool) -> bool:
    """Not for `comments` threads: they follow their library item (can_see_resource)."""
    community_id = thread["community_id"]
    if community_hidden and not standing.is_member(community_id):
        return False
    if moderated_out(thread, standing):
        return False
    if standing.is_member(community_id):
        return True
    return not thread.get("chatham_house") and community_id in standing.partner_of


def may_post(standing: Standing, community_id: str, *, community_archived: bool) -> bool:
    return standing.is_member(community_id) and not community_archived
