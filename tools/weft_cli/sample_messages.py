"""Message payloads as membership, events and resources write them, for tests and
benchmarks that feed a consumer straight from the bus (no other process needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from weft_shared.contracts.events import Capacity, EventSnapshot
from weft_shared.contracts.membership import CommunitySnapshot
from weft_shared.contracts.resources import ReplyFacts, ResourceSnapshot, ThreadFacts, ThreadKind


def sample_community(community_id: str, name: str = "Bench Network") -> CommunitySnapshot:
    """A public, open community with no code of conduct."""
    return CommunitySnapshot(
        id=community_id,
        slug=community_id,
        name=name,
        purpose="Share good practice",
        description="",
        tags=[],
        visibility="public",
        join_policy="open",
        archived=False,
        code_of_conduct_version=None,
    )


def sample_occurrence(event_id: str, community_id: str, *, series_id: str | None = None) -> EventSnapshot:
    """An in-person occurrence a week from now, for the community's members, unlimited seats."""
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    return EventSnapshot(
        id=event_id,
        series_id=series_id,
        community_id=community_id,
        cohost_community_ids=[],
        title="Falls huddle",
        description="",
        format="in_person",
        timezone="Europe/London",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        venue="Room 4",
        visibility="community",
        hosts=[],
        guest_speakers=[],
        capacity=Capacity(in_person=None, online=None),
        registration_opens_at=None,
        registration_closes_at=None,
        status="scheduled",
    )


def sample_resource(resource_id: str, community_id: str, created_by: str, **fields: Any) -> ResourceSnapshot:
    """A published link in the community's library, seen by its members only; `fields` override."""
    values: dict[str, Any] = {
        "id": resource_id,
        "community_id": community_id,
        "kind": "link",
        "title": "Falls risk checklist",
        "summary": "A one-page checklist for a falls risk assessment at home.",
        "tags": ["falls"],
        "authors": ["Falls Network"],
        "licence": "CC-BY-4.0",
        "source": None,
        "visibility": "community",
        "status": "published",
        "endorsed": False,
        "review_by": None,
        "version": 1,
        "url": "https://example.org/falls-checklist",
        "file": None,
        "shared_with": [],
        "created_by": created_by,
    }
    return ResourceSnapshot(**{**values, **fields})


def sample_thread(
    thread_id: str,
    community_id: str,
    author_id: str | None,
    *,
    kind: ThreadKind = "discussion",
    title: str = "Night-time falls",
    chatham_house: bool = False,
) -> ThreadFacts:
    """A thread as the bus carries it: an author of None is anonymous; a Chatham House
    thread carries only its id, community, kind and title."""
    if chatham_house:
        return ThreadFacts(id=thread_id, community_id=community_id, kind=kind, title=title, chatham_house=True)
    return ThreadFacts(
        id=thread_id,
        community_id=community_id,
        kind=kind,
        title=title,
        chatham_house=False,
        anonymous=author_id is None,
        author_id=author_id,
    )


def sample_reply(reply_id: str, thread: ThreadFacts, author_id: str | None) -> ReplyFacts:
    """A reply in `thread`: an author of None (or any reply in a Chatham House thread) carries no name."""
    named = None if thread.chatham_house else author_id
    return ReplyFacts(
        id=reply_id,
        thread_id=thread.id,
        community_id=thread.community_id,
        anonymous=author_id is None,
        author_id=named,
    )
