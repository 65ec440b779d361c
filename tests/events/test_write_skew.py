"""Rules that span documents hold under concurrency: transactions that rely on a
fact write it, so a concurrent message undoing it cannot slip past (write skew).
The use cases and handlers run in this process on the rig's database, racing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.events.conftest import Rig, occurrence_document
from weft_events.domain.events import AttendanceMode
from weft_events.handlers.membership import community_archived, link_accepted, link_removed, member_left
from weft_events.schemas import EventCreate
from weft_events.usecases.check_ins import check_in
from weft_events.usecases.context import EventsContext
from weft_events.usecases.events import schedule_event
from weft_events.usecases.rsvps import rsvp, withdraw
from weft_shared.auth import Principal
from weft_shared.contracts.membership import (
    CommunityArchived,
    CommunitySnapshot,
    LinkAccepted,
    LinkFacts,
    LinkRemoved,
    MemberLeft,
)
from weft_shared.errors import Problem
from weft_shared.messaging.consumer import Delivery
from weft_shared.service.actor import Person
from weft_shared.storage.unit_of_work import Transaction

ROUNDS = 15


def person(user_id: str) -> Person:
    return Person(Principal(sub=user_id, email=None, name=None, expires_at=0.0))


def delivery(sequence: int) -> Delivery:
    return Delivery(sequence=sequence, subject="weft.member.left.v1.c1", attempt=1)


async def handle(ctx: EventsContext, handler, message, sequence: int) -> None:  # type: ignore[no-untyped-def]
    """What the consumer does: the handler in one transaction."""

    async def work(_tx: Transaction) -> None:
        await handler(ctx, message, delivery(sequence))

    await ctx.uow.run(work)


async def test_people_leaving_while_they_rsvp_keep_no_place(rig: Rig) -> None:
    ctx = rig.context()
    event = occurrence_document(datetime.now(UTC) + timedelta(days=3))
    await rig.db.events.insert_one(event)
    community = {"name": "Falls", "visibility": "private", "archived": False}
    await ctx.storage.membership.record_community("c1", community, 1)
    people = [f"p{i}" for i in range(ROUNDS)]
    for i, user_id in enumerate(people):
        await ctx.storage.membership.record_member("c1", user_id, {"active": True, "role": "member"}, 10 + i)

    async def book(user_id: str) -> int:
        try:
            await rsvp(ctx, person(user_id), event["_id"], AttendanceMode.IN_PERSON)
        except Problem as exc:
            return exc.status
        return 201

    async def leave(user_id: str, sequence: int) -> None:
        await handle(ctx, member_left, MemberLeft(community_id="c1", user_id=user_id, role="member"), sequence)

    outcomes = await asyncio.gather(*(job for i, p in enumerate(people) for job in (book(p), leave(p, 100 + i))))
    # Booked before the leave, or refused after it: a community-only event is not theirs to see.
    assert set(outcomes[::2]) <= {201, 404}

    assert await ctx.storage.rsvps.of_event(event["_id"]) == []
    stored = await ctx.storage.events.get(event["_id"])
    assert stored is not None and stored["confirmed"] == {"in_person": 0, "online": 0}


async def test_an_archive_racing_new_events_leaves_none_scheduled(rig: Rig) -> None:
    ctx = rig.context()
    snapshot = CommunitySnapshot(
        id="c1",
        slug="falls",
        name="Falls",
        purpose="p",
        description="",
        tags=[],
        visibility="public",
        join_policy="open",
        archived=False,
        code_of_conduct_version=None,
    )
    await ctx.storage.membership.record_community("c1", {"name": "Falls", "visibility": "public", "archived": False}, 1)
    await ctx.storage.membership.record_member("c1", "owner", {"active": True, "role": "owner"}, 2)
    starts = datetime.now(UTC) + timedelta(days=3)
    body = EventCreate(
        title="Huddle", format="in_person", timezone="Europe/London", starts_at=starts,
        ends_at=starts + timedelta(hours=1), venue="Room 4",
    )  # fmt: skip

    async def schedule() -> int:
        try:
            await schedule_event(ctx, person("owner"), "c1", body)
        except Problem as exc:
            return exc.status
        return 201

    await schedule_event(ctx, person("owner"), "c1", body)  # one before the race, at least
    archived = CommunityArchived(community=snapshot.model_copy(update={"archived": True}), archived_by="owner")
    *outcomes, _ = await asyncio.gather(
        *(schedule() for _ in range(ROUNDS // 2)), handle(ctx, community_archived, archived, 3)
    )
    assert set(outcomes) <= {201, 409}  # scheduled before the archive, or refused after it

    scheduled = await ctx.storage.events.upcoming_of_community("c1", after=datetime.now(UTC))
    assert len(scheduled) == 1 + outcomes.count(201)
    assert {e["status"] for e in scheduled} == {"cancelled"}  # none outlived the archive


async def test_a_check_in_racing_a_withdrawal_never_leaves_a_check_in_without_a_place(rig: Rig) -> None:
    ctx = rig.context()
    event = occurrence_document(datetime.now(UTC) + timedelta(minutes=10))  # check-in is open, not started
    await rig.db.events.insert_one(event)
    await ctx.storage.membership.record_community(
        "c1", {"name": "Falls", "visibility": "private", "archived": False}, 1
    )
    await ctx.storage.membership.record_member("c1", "hana", {"active": True, "role": "owner"}, 2)
    people = [f"p{i}" for i in range(ROUNDS)]
    for i, user_id in enumerate(people):
        await ctx.storage.membership.record_member("c1", user_id, {"active": True, "role": "member"}, 10 + i)
        await rsvp(ctx, person(user_id), event["_id"], AttendanceMode.IN_PERSON)

    async def withdraw_place(user_id: str) -> int:
        try:
            await withdraw(ctx, person(user_id), event["_id"])
        except Problem as exc:
            return exc.status
        return 204

    jobs = [job for p in people for job in (check_in(ctx, person("hana"), event["_id"], p), withdraw_place(p))]
    outcomes = await asyncio.gather(*jobs)
    # Withdrawn first (then checked in as a walk-in), or refused: attendance already recorded.
    assert set(outcomes[1::2]) <= {204, 409}

    places = {p["user_id"]: p for p in await ctx.storage.rsvps.of_event(event["_id"])}
    check_ins = await ctx.storage.check_ins.of_event(event["_id"])
    assert set(check_ins) == set(people)
    assert {u: places[u]["status"] for u in check_ins} == dict.fromkeys(people, "confirmed")
    walk_ins = {u for u, c in check_ins.items() if c["walk_in"]}
    assert walk_ins == {p for p, withdrawn in zip(people, outcomes[1::2], strict=True) if withdrawn == 204}
    stored = await ctx.storage.events.get(event["_id"])
    assert stored is not None
    assert stored["confirmed"]["in_person"] == len(places) == ROUNDS and stored["checked_in"] == ROUNDS


async def test_partners_booking_while_their_link_is_removed_keep_no_place(rig: Rig) -> None:
    """A partner's place relies on the link: an RSVP racing the link's removal either
    commits first (and the removal then drops it) or sees the link gone (404)."""
    ctx = rig.context()
    for attempt in range(3):
        organiser, partner, link_id = f"o{attempt}", f"w{attempt}", f"l{attempt}"
        event = occurrence_document(datetime.now(UTC) + timedelta(days=3), community_id=organiser)
        await rig.db.events.insert_one({**event, "visibility": "partners"})
        for community in (organiser, partner):
            state = {"name": community, "visibility": "public", "archived": False}
            await ctx.storage.membership.record_community(community, state, 1)
        people = [f"{partner}p{i}" for i in range(ROUNDS)]
        for i, user_id in enumerate(people):
            await ctx.storage.membership.record_member(partner, user_id, {"active": True, "role": "member"}, 10 + i)
        link = LinkFacts(
            link_id=link_id,
            from_community_id=organiser,
            to_community_id=partner,
            share_events=True,
            share_resources=True,
        )
        await handle(ctx, link_accepted, LinkAccepted(link=link, accepted_by="owner"), 50)

        async def book(user_id: str, event_id: str = event["_id"]) -> int:
            try:
                await rsvp(ctx, person(user_id), event_id, AttendanceMode.IN_PERSON)
            except Problem as exc:
                return exc.status
            return 201

        removal = handle(ctx, link_removed, LinkRemoved(link=link, removed_by="owner"), 100)
        *outcomes, _ = await asyncio.gather(*(book(p) for p in people), removal)
        assert set(outcomes) <= {201, 404}
        assert await ctx.storage.rsvps.of_event(event["_id"]) == [], attempt
        stored = await ctx.storage.events.get(event["_id"])
        assert stored is not None and stored["confirmed"] == {"in_person": 0, "online": 0}
