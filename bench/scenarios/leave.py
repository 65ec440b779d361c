"""Member left -> seat to the next person: how long a leaver's seat takes to reach the waitlist.

An occurrence at capacity (5) with a waitlist, in a community of its own. One sample at a
time (`--leave-samples`, at most LEAVE_BUDGET seconds), a confirmed member leaves the
community (`DELETE /v1/communities/{cid}/members/{uid}` with their own token, straight to
membership), and the time is taken from the moment membership's `member.left` message
reaches the bench until the events service's `rsvp.promoted` message for the first
waitlisted person reaches it. Both are core NATS subscriptions in the bench's process,
stamped with the same clock when their callback runs. Each sample starts with the events
service idle (its consumer drained): the latency of one promotion, not of a queue of them.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from harness.runner import Harness, Members, Outcome
from harness.stats import percentile_ms

if TYPE_CHECKING:
    from nats.aio.msg import Msg

NAME = "leave"
TITLE = "member left -> seat to the next person"
BASELINE = False
SEATS = 5
SAMPLE_TIMEOUT = 10.0  # for one leave's two messages
LEAVE_BUDGET = 60.0  # seconds at most for all the samples
LEAVE_SPARE = 3  # waitlisted people still waiting after the last sample


class Arrivals:
    """Arrival times of expected messages, stamped when they reach this process."""

    def __init__(self) -> None:
        self.expected: dict[tuple[str, str], asyncio.Future[float]] = {}
        self.unexpected: list[tuple[str, str]] = []

    def expect(self, kind: str, user_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.expected[(kind, user_id)] = future
        return future

    def arrived(self, kind: str, user_id: str, at: float) -> None:
        future = self.expected.pop((kind, user_id), None)
        if future is None or future.done():
            self.unexpected.append((kind, user_id))
        else:
            future.set_result(at)


@dataclass
class LeaveRun:
    wanted: int
    members: Members
    waitlist_at_start: int = 0
    latencies: list[float] = field(default_factory=list)  # member.left arrival -> rsvp.promoted arrival
    from_delete: list[float] = field(default_factory=list)  # DELETE sent -> rsvp.promoted arrival
    round_trips: list[float] = field(default_factory=list)  # DELETE sent -> 204
    left_after_204: list[float] = field(default_factory=list)  # member.left arrival minus the 204's
    timeouts: int = 0
    failures: list[str] = field(default_factory=list)
    unexpected: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    setup_problem: str = ""


async def run(h: Harness) -> Outcome:
    leave = await _measure(h)
    return Outcome(NAME, TITLE, details=_lines(leave))


async def _measure(h: Harness) -> LeaveRun:
    services, samples = h.stack, h.args.leave_samples
    gateway = services.gateway
    owner = h.tokens.mint("bench-owner-leave")
    community_id = await h.api.create_community(gateway.url, owner, "Bench leavers community")
    event_id = await h.api.schedule(gateway.url, community_id, owner, "Bench full meetup", SEATS)
    size = SEATS + samples + LEAVE_SPARE
    h.log(f"  {TITLE}: {samples} samples; joining {size} members first (untimed) ...")
    members = await h.join_members(community_id, "bench-leave", size)
    run = LeaveRun(wanted=samples, members=members)

    # Places in a known order: RSVP one at a time, so the waitlist is the joining order.
    confirmed: deque[str] = deque()
    waitlist: deque[str] = deque()
    rsvp_url = f"{gateway.url}/v1/events/{event_id}/rsvp"
    for user_id in members.user_ids:
        status, answer = await h.api.call("PUT", rsvp_url, h.tokens.mint(user_id), {"attendance": "in_person"})
        if status != 201:
            run.setup_problem = f"RSVP of {user_id} answered {status}: {answer}"
            return run
        (confirmed if answer["status"] == "confirmed" else waitlist).append(user_id)
    run.waitlist_at_start = len(waitlist)
    if len(confirmed) != SEATS or len(waitlist) <= LEAVE_SPARE:
        run.setup_problem = f"{len(confirmed)} confirmed and {len(waitlist)} waitlisted after the RSVPs"
        return run

    arrivals = Arrivals()

    def stamp(kind: str, user_of: Callable[[dict[str, Any]], str]) -> Callable[[Msg], Any]:
        async def on_message(msg: Msg) -> None:
            at = time.perf_counter()
            arrivals.arrived(kind, user_of(orjson.loads(msg.data)["data"]), at)

        return on_message

    bus = h.bus
    subscriptions = [
        await bus.nc.subscribe(bus.subject("member.left", community_id), cb=stamp("left", lambda d: str(d["user_id"]))),
        await bus.nc.subscribe(
            bus.subject("rsvp.promoted", community_id), cb=stamp("promoted", lambda d: str(d["rsvp"]["user_id"]))
        ),
    ]
    await bus.nc.flush()
    membership = services.membership.url
    started = time.perf_counter()
    try:
        for _ in range(samples):
            if time.perf_counter() - started > LEAVE_BUDGET or len(waitlist) == 0:
                break
            await bus.caught_up()  # each sample starts with the events service idle
            leaver, next_person = confirmed.popleft(), waitlist.popleft()
            left = arrivals.expect("left", leaver)
            promoted = arrivals.expect("promoted", next_person)
            sent = time.perf_counter()
            status, answer = await h.api.call(
                "DELETE", f"{membership}/v1/communities/{community_id}/members/{leaver}", h.tokens.mint(leaver)
            )
            answered = time.perf_counter()
            if status != 204:
                run.failures.append(f"DELETE member answered {status}: {answer}")
                break
            try:
                async with asyncio.timeout(SAMPLE_TIMEOUT):
                    left_at = await left
                    promoted_at = await promoted
            except TimeoutError:
                run.timeouts += 1
                break  # who holds which place is no longer known; stop here
            confirmed.append(next_person)
            run.latencies.append(promoted_at - left_at)
            run.from_delete.append(promoted_at - sent)
            run.round_trips.append(answered - sent)
            run.left_after_204.append(left_at - answered)
    finally:
        run.elapsed = time.perf_counter() - started
        for subscription in subscriptions:
            await subscription.drain()
    run.unexpected = arrivals.unexpected
    return run


def _before_after(ms: float) -> str:
    return f"{abs(ms):.1f} ms {'after' if ms >= 0 else 'before'}"


def _lines(run: LeaveRun) -> list[str]:
    m = run.members
    lines = [
        f"setup (untimed): {m.line('members')}; {SEATS} confirmed, {run.waitlist_at_start} waitlisted "
        "(RSVPs one at a time, through the gateway)."
    ]
    if run.setup_problem:
        return [*lines, f"not measured: {run.setup_problem}"]
    n = len(run.latencies)

    def ms(values: Sequence[float], pct: float) -> str:
        return f"{percentile_ms(values, pct):.1f}"

    if n:
        lines += [
            f"{n} of {run.wanted} samples in {run.elapsed:.1f} s, one at a time: from member.left arriving on "
            f"NATS to rsvp.promoted arriving: p50 {ms(run.latencies, 50)} ms, p99 {ms(run.latencies, 99)} ms, "
            f"max {ms(run.latencies, 100)} ms" + (" (under 100 samples p99 is the max)" if n < 100 else "") + ".",
            f"from the DELETE being sent: p50 {ms(run.from_delete, 50)} ms, max {ms(run.from_delete, 100)} ms; "
            f"the DELETE's round trip (204): p50 {ms(run.round_trips, 50)} ms; member.left reached this process "
            + _before_after(percentile_ms(run.left_after_204, 50))
            + " the 204 at p50.",
        ]
    else:
        lines.append("no sample completed.")
    problems = []
    if run.timeouts:
        problems.append(f"{run.timeouts} sample(s) timed out after {SAMPLE_TIMEOUT:g} s")
    problems += run.failures
    if run.unexpected:
        problems.append(f"{len(run.unexpected)} unexpected or repeated message(s): {run.unexpected[:5]}")
    if problems:
        lines.append("problems: " + "; ".join(problems) + ".")
    return lines
