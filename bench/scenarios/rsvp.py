"""RSVP to a waitlisted event: `PUT /v1/events/{id}/rsvp {"attendance": "in_person"}` through the gateway.

One occurrence with 5 in-person seats in an open community, and many members, each a fresh
user joined through membership before anything is timed (the bench waits until the events
service has consumed their member.joined messages). Then closed-loop RSVPs through the
gateway, one per member: the warm-up's first 5 take the seats, so every RSVP of the window is
a real write that lands on the waitlist. The warm-up's members are a fixed few; the window's
are sized from the warm-up's rate, at most `--rsvp-members`. Around the window, 5 members
each RSVP alone (one at a time): the service time without queueing.
"""

from __future__ import annotations

import math
from typing import Any

from harness import loadgen
from harness.bus import PublishCounter
from harness.runner import PROBE, Harness, Outcome, Row, cpu_us

NAME = "rsvp"
TITLE = "RSVP via gateway (waitlist)"
BASELINE = True
TARGET = 0.03  # as a share of the baseline's req/s
SEATS = 5


async def run(h: Harness) -> Outcome:
    services, args = h.stack, h.args
    conc, cap = h.concurrency, args.rsvp_members
    gateway = services.gateway
    owner = h.tokens.mint("bench-owner-rsvp")
    community_id = await h.api.create_community(gateway.url, owner, "Bench RSVP community")
    event_id = await h.api.schedule(gateway.url, community_id, owner, "Bench RSVP meetup", SEATS)
    h.log(f"  {TITLE}: event {event_id}, {SEATS} in-person seats, one RSVP per fresh member ...")
    outcome = Outcome(NAME, TITLE)
    lines = outcome.details

    warm_rps, warm_answered, warm_members = 0.0, 0, 0
    if args.warmup > 0:
        warm = await h.join_members(community_id, "bench-rsvp-warm", min(cap, 4 * conc + math.ceil(25 * args.warmup)))
        h.log("    " + warm.line("warm-up"))
        warm_members = len(warm.user_ids)
        warmed, _ = await h.closed_loop(
            gateway.port,
            loadgen.one_shot(iter(h.rsvp_requests(gateway.port, event_id, warm.user_ids))),
            frozenset({201}),
            warmup=0,
            measure=False,
        )
        warm_rps, warm_answered = warmed.rps, warmed.requests
        lines.append(
            f"setup (untimed): {warm.line('warm-up')}; the warm-up answered {warm_answered:,} RSVPs "
            f"({warm_rps:.0f}/s), from which the window's members were sized."
        )
    wanted = math.ceil(args.duration * max(warm_rps, 10.0) * 1.25) + 4 * conc + 2 * PROBE
    window = await h.join_members(community_id, "bench-rsvp-win", max(2 * PROBE + 1, min(cap - warm_members, wanted)))
    h.log("    " + window.line("window"))
    lines.append(f"setup (untimed): {window.line('window')} ({2 * PROBE} of them for the probes).")
    probes = window.user_ids[-2 * PROBE :]
    requests = h.rsvp_requests(gateway.port, event_id, window.user_ids[: -2 * PROBE])
    url = f"{gateway.url}/v1/events/{event_id}/rsvp"
    alone_before = await h.rsvp_alone(url, probes[:PROBE])
    await h.bus.caught_up()
    before = await h.api.attendee_counts(gateway.url, event_id, owner)
    counter = PublishCounter()
    subscription = await h.bus.nc.subscribe(f"{h.bus.prefix}.rsvp.*.v1.{community_id}", cb=counter.on_message)
    await h.bus.nc.flush()
    result, cpu = await h.closed_loop(gateway.port, loadgen.one_shot(iter(requests)), frozenset({201}), warmup=0)
    await subscription.drain()  # every message the server sent is counted (unsubscribe would drop the queue)
    after = await h.api.attendee_counts(gateway.url, event_id, owner)
    await h.bus.caught_up()
    alone_after = await h.rsvp_alone(url, probes[PROBE:])
    note = ""
    if result.exhausted:
        note = (
            f"the {len(requests):,} members ran out {result.elapsed:.1f} s into the window "
            f"(the warm-up's rate underestimated the window's; --rsvp-members caps them at {cap:,})"
        )
    row = Row(TITLE, result, cpu, TARGET, note)
    outcome.rows.append(row)
    lines += [
        f"the occurrence ({SEATS} in-person seats), as the API counts it: {_counts(before)} when the window "
        f"started (warm-up and probes), {_counts(after)} when it ended ({result.requests:,} RSVPs answered 201 "
        "in it).",
        f"one RSVP alone (no queueing), p50 of {PROBE}: {alone_before:.1f} ms just before the window, "
        f"{alone_after:.1f} ms just after it; under {conc} concurrent ones the window's p50 was "
        f"{result.p50_ms:.1f} ms.",
    ]
    if counter.ids:
        lines.append(
            f"during the window the events service published {counter.published:,} RSVP messages for "
            f"{len(counter.ids):,} distinct ones ({counter.published / len(counter.ids):.2f} each)"
            + ("; JetStream drops the copies by Nats-Msg-Id." if counter.published > len(counter.ids) else ".")
        )
    if result.rps > 0:
        outcome.hints.append(
            f"RSVP: per RSVP the events service spends {cpu_us(row, 'events')} of CPU, the database "
            f"{cpu_us(row, 'database')}, the gateway {cpu_us(row, 'gateway')} and nats {cpu_us(row, 'nats')}; "
            f"alone (no queueing) one takes {alone_before:.1f} ms."
        )
    return outcome


def _counts(counts: dict[str, Any]) -> str:
    if "confirmed" not in counts:
        return f"(attendees answered {counts.get('status')})"
    return f"{counts['confirmed']:,} confirmed + {counts['waitlisted']:,} waitlisted"
