"""Message payloads as membership and events write them, for tests and benchmarks that
feed a consumer straight from the bus (no membership or events process needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from weft_shared.contracts.events import Capacity, EventSnapshot
from weft_shared.contracts.membership import CommunitySnapshot


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
