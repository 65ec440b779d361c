"""A leave handled after a later rejoin (JetStream redelivers a NAKed message after the ones
behind it; a batch's messages are handled concurrently) still releases the places taken
before the leave, and keeps those taken after the rejoin was seen. Found by the fault run
(bench/chaos): a roamer joined, RSVPed, left and rejoined, and kept the place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.events.conftest import Rig, occurrence_document
from tests.events.test_write_skew import handle, person
from tests.support.bus import stream_messages
from weft_events.domain.events import AttendanceMode
from weft_events.handlers.membership import member_joined, member_left, member_removed
from weft_events.usecases.rsvps import rsvp
from weft_shared.contracts.membership import MemberJoined, MemberLeft, MemberRemoved

JOINED = MemberJoined(
    community_id="c1", user_id="ana", role="member", via="open", display_name="Ana", community_visibility="private"
)
LEFT = MemberLeft(community_id="c1", user_id="ana", role="member")
REMOVED = MemberRemoved(community_id="c1", user_id="ana", role="member", removed_by="hana", banned=False)


async def _occurrence_with_member(rig: Rig) -> str:
    ctx = rig.context()
    event = occurrence_document(datetime.now(UTC) + timedelta(days=3))
    await rig.db.events.insert_one(event)
    await ctx.storage.membership.record_community(
        "c1", {"name": "Falls", "visibility": "private", "archived": False}, 1
    )
    await handle(ctx, member_joined, JOINED, 10)
    return str(event["_id"])


async def test_a_leave_handled_after_the_rejoin_still_releases_the_place_taken_before_it(rig: Rig) -> None:
    ctx = rig.context()
    event_id = await _occurrence_with_member(rig)
    await rsvp(ctx, person("ana"), event_id, AttendanceMode.IN_PERSON)  # granted on the join at 10

    await handle(ctx, member_joined, JOINED, 12)  # the rejoin, handled first
    await handle(ctx, member_left, LEFT, 11)  # the leave between them, handled late

    assert await ctx.storage.rsvps.get(event_id, "ana") is None
    stored = await ctx.storage.events.get(event_id)
    assert stored is not None and stored["confirmed"]["in_person"] == 0
    member = await ctx.storage.membership.members.find_one({"_id": "c1:ana"})
    assert member is not None and member["active"] is True and member["seq"] == 12  # the view stays current
    subject = f"{rig.platform.subject_prefix}.rsvp.cancelled.v1.c1"
    cancelled = await stream_messages(
        rig.platform.nats_url, subject, stream=rig.platform.stream_name
    )  # relayed at commit
    assert [m.body["data"]["reason"] for m in cancelled] == ["left_community"]


async def test_a_place_taken_after_the_rejoin_outlives_the_late_leave(rig: Rig) -> None:
    ctx = rig.context()
    event_id = await _occurrence_with_member(rig)
    await handle(ctx, member_joined, JOINED, 12)
    await rsvp(ctx, person("ana"), event_id, AttendanceMode.IN_PERSON)  # granted on the rejoin at 12

    await handle(ctx, member_left, LEFT, 11)
    await handle(ctx, member_removed, REMOVED, 11)

    place = await ctx.storage.rsvps.get(event_id, "ana")
    assert place is not None and place["status"] == "confirmed" and place["member_seq"] == 12
