"""Audience tokens: who may see an indexed document, as terms the query filters on.

An indexed document holds the tokens of everyone who may see it; a caller holds
the tokens their standing (read at query time) gives them; a hit needs one token
in common. Hidden communities are the one exception the tokens cannot say (their
content is for their members only, whatever its visibility): the query leaves
out every hidden community the caller is not a member of (query.py).

Tokens (C: the document's community; D: another community; U: a person):
- `m:C`   members of C
- `st:C`  owners and facilitators of C
- `a:U`   U (a draft's creator: theirs to see even after they leave or are banned,
          as domain/standing.py says; a hidden community's still only while a member)
- `p:C`   members of any community linked with C by an active link sharing resources
- `s:C:D` members of D while D is linked with C by such a link (an item shared to D)
- `net`   anyone signed in

This mirrors domain/standing.py; tests/resources/test_search_api.py checks both
against one table of callers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NETWORK = "net"


def member(community_id: str) -> str:
    return f"m:{community_id}"


def staff(community_id: str) -> str:
    return f"st:{community_id}"


def creator(user_id: str) -> str:
    return f"a:{user_id}"


def partners(community_id: str) -> str:
    return f"p:{community_id}"


def shared(community_id: str, with_community_id: str) -> str:
    return f"s:{community_id}:{with_community_id}"


def resource_audience(
    *,
    community_id: str,
    visibility: str,
    status: str,
    created_by: str | None,
    shared_with: Iterable[str] = (),
) -> frozenset[str]:
    """A library item's audience. A draft is for its creator and the community's
    staff; a published or archived item for its community's members, plus its
    partners (`partners`), everyone (`network`) and the linked communities it was
    explicitly shared with (archived ones show only when asked for: query.py)."""
    if status == "draft":
        tokens = {staff(community_id)}
        if created_by is not None:
            tokens.add(creator(created_by))
        return frozenset(tokens)
    tokens = {member(community_id), *(shared(community_id, d) for d in shared_with)}
    if visibility in ("partners", "network"):
        tokens.add(partners(community_id))
    if visibility == "network":
        tokens.add(NETWORK)
    return frozenset(tokens)


def thread_audience(*, community_id: str, chatham_house: bool) -> frozenset[str]:
    """A thread's (and so each of its replies') audience: the community's members
    and, unless the thread is Chatham House, its partners' members."""
    if chatham_house:
        return frozenset({member(community_id)})
    return frozenset({member(community_id), partners(community_id)})


@dataclass(frozen=True, slots=True)
class SearchStanding:
    """What the caller is, read from the membership view when they search."""

    user_id: str
    member_of: frozenset[str]  # communities where the caller is an active member
    staff_of: frozenset[str]  # communities where the caller is an owner or facilitator
    # (C, D) for every active link sharing resources between C and a community D the caller is a member of
    resource_links: frozenset[tuple[str, str]]
    hidden: frozenset[str]  # every hidden community (the query leaves out those the caller is not in)

    @property
    def excluded_communities(self) -> frozenset[str]:
        return self.hidden - self.member_of


def caller_tokens(standing: SearchStanding) -> frozenset[str]:
    tokens = {NETWORK, creator(standing.user_id)}
    for c in standing.member_of:
        tokens.add(member(c))
    tokens.update(staff(c) for c in standing.staff_of & standing.member_of)
    for linked, mine in standing.resource_links:
        tokens.add(partners(linked))
        tokens.add(shared(linked, mine))
    return frozenset(tokens)
