"""RSVP at scale: RSVP throughput and p99 on an occurrence that already holds 5,000 RSVPs, against
its twin that holds 50.

Three occurrences of the same shape in one open community: in person, a week ahead, 100,000
seats, so every RSVP here is **confirmed** (the waitlist has its own scenario, `rsvp`): the
large one, the small one, and a third for the warm-ups. The existing RSVPs are real ones:
`--rsvp-existing` fresh members join through membership, the bench waits until the events
service has consumed their member.joined messages, then all of them RSVP to the large
occurrence and the first 50 to the small one, straight to the events service, concurrent and
untimed. Then one set of fresh members (joined the same way, sized from the seeding's rate)
RSVPs through the gateway, closed loop, first to the small occurrence, then, after a second
warm-up, to the large one: the two windows differ only in what the occurrence already held.
Afterwards 5 members RSVP to each alone (one at a time): the service time without queueing.
"""

from __future__ import annotations

from harness import loadgen
from harness.runner import JOIN_BUDGET, PROBE, Comparison, Harness, Outcome, Row, cpu_us, pool_size

NAME = "rsvp_scale"
TITLE = "RSVP at scale: 5,000 existing vs 50"
BASELINE = False
SEATS = 100_000  # the most the API allows: every RSVP is confirmed
SMALL = 50
WARM_GUESS = 200.0  # RSVPs/s assumed for sizing the warm-ups' slices of members


async def run(h: Harness) -> Outcome:
    services, args = h.stack, h.args
    gateway, events = services.gateway, services.events
    large_wanted = args.rsvp_existing
    owner = h.tokens.mint("bench-owner-scale")
    community_id = await h.api.create_community(gateway.url, owner, "Bench RSVP scale community")
    title = "Bench meetup at scale"
    small_id = await h.api.schedule(gateway.url, community_id, owner, title, SEATS)
    large_id = await h.api.schedule(gateway.url, community_id, owner, title, SEATS)
    warm_id = await h.api.schedule(gateway.url, community_id, owner, title, SEATS)
    outcome = Outcome(NAME, f"RSVP at scale: {large_wanted:,} existing vs {SMALL}")
    lines = outcome.details

    h.log(f"  {outcome.title}: joining {large_wanted:,} members for the existing RSVPs (untimed) ...")
    seed = await h.join_members(community_id, "bench-scale-seed", large_wanted)
    lines.append(f"setup (untimed): {seed.line('for the existing RSVPs')}.")
    existing = h.rsvp_requests(events.port, small_id, seed.user_ids[:SMALL]) + h.rsvp_requests(
        events.port, large_id, seed.user_ids
    )
    h.log(f"    {seed.line('seed')}; now {len(existing):,} RSVPs straight to the events service ...")
    sent = await h.send_each_once(events.port, existing, frozenset({200, 201}), budget=args.seed_budget)
    small_n = await confirmed(h, small_id, owner)
    large_n = await confirmed(h, large_id, owner)
    lines.append(
        f"setup (untimed): {len(sent.done):,} of {sent.wanted:,} existing RSVPs answered 200/201 by the events "
        f"service in {sent.seconds:.1f} s ({sent.rate:.0f}/s, {h.concurrency} connections, {sent.rounds} "
        f"round(s))" + (f"; errors: {sent.errors}" if sent.errors else "") + f"; the API then counts "
        f"{small_n:,} confirmed on the small occurrence and {large_n:,} on the large one."
    )
    h.log(f"    {len(sent.done):,} existing RSVPs in {sent.seconds:.1f} s ({sent.rate:.0f}/s)")

    # Warm-ups on the third occurrence, each with its own slice of the seeded members; the first
    # also sizes the windows' members from its rate.
    slice_size = max(1, min(len(seed.user_ids) // 3, pool_size(args.warmup, WARM_GUESS, h.concurrency)))
    slices = [seed.user_ids[n * slice_size : (n + 1) * slice_size] for n in range(3)]

    async def warm_up(user_ids: list[str]) -> float:
        if args.warmup <= 0 or not user_ids:
            return 0.0
        warmed, _ = await h.closed_loop(
            gateway.port,
            loadgen.one_shot(iter(h.rsvp_requests(gateway.port, warm_id, user_ids))),
            frozenset({201}),
            warmup=0,
            duration=args.warmup,
            measure=False,
        )
        return warmed.rps

    warm_rps = await warm_up(slices[0]) or sent.rate
    size = min(args.rsvp_members, pool_size(args.duration, max(warm_rps, 10.0), h.concurrency)) + PROBE
    window = await h.join_members(community_id, "bench-scale-win", size)
    lines.append(
        f"setup (untimed): {window.line('for the windows (the same members in both)')}; sized from the first "
        f"warm-up's {warm_rps:.0f} RSVPs/s."
    )
    h.log("    " + window.line("window"))
    measured, probes = window.user_ids[:-PROBE], window.user_ids[-PROBE:]
    rows: list[Row] = []
    for n, (event_id, held) in enumerate(((small_id, small_n), (large_id, large_n)), start=1):
        await warm_up(slices[n])
        await h.bus.caught_up()
        label = f"RSVP, {held:,} existing (confirmed)"
        h.log(f"  {label} ...")
        requests = h.rsvp_requests(gateway.port, event_id, measured)
        result, cpu = await h.closed_loop(gateway.port, loadgen.one_shot(iter(requests)), frozenset({201}), warmup=0)
        after = await confirmed(h, event_id, owner)
        note = f"the {len(requests):,} members ran out after {result.elapsed:.1f} s" if result.exhausted else ""
        rows.append(Row(label, result, cpu, note=note))
        lines.append(
            f"{label}: {result.rps:,.1f} RSVPs/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms "
            f"({result.requests:,} answered 201); the occurrence held {held:,} confirmed when the window started, "
            f"{after:,} when it ended."
        )
    outcome.rows += rows
    alone = [
        await h.rsvp_alone(f"{gateway.url}/v1/events/{event_id}/rsvp", probes) for event_id in (small_id, large_id)
    ]
    lines.append(
        f"one RSVP alone (no queueing), p50 of {PROBE}, after the windows: {alone[0]:.1f} ms on the small "
        f"occurrence, {alone[1]:.1f} ms on the large one."
    )
    small, large = rows
    versus = f"RSVP, {large_n:,} vs {small_n:,} existing"
    outcome.comparisons += [
        Comparison(f"{versus}: rate", "req/s", small.result.rps, large.result.rps, higher_is_better=True),
        Comparison(f"{versus}: p99", "ms", small.result.p99_ms, large.result.p99_ms, higher_is_better=False),
    ]
    if small.result.rps > 0 and large.result.rps > 0:
        outcome.hints.append(
            f"RSVP at scale: per RSVP the events service spends {cpu_us(small, 'events')} of CPU with "
            f"{small_n:,} existing and {cpu_us(large, 'events')} with {large_n:,}; the database "
            f"{cpu_us(small, 'database')} and {cpu_us(large, 'database')}."
        )
    if large_n < large_wanted:
        short = (
            f"only {len(seed.user_ids):,} members joined within the {JOIN_BUDGET:g} s join budget"
            if len(seed.user_ids) < large_wanted
            else ""
        )
        if len(sent.done) < len(existing):
            short += ("; " if short else "") + f"the --seed-budget of {args.seed_budget:g} s ran out"
        lines.append(
            f"note: {large_wanted:,} existing RSVPs were wanted and {large_n:,} were in place: {short} "
            "(the rates are in the setup lines above)."
        )
    return outcome


async def confirmed(h: Harness, event_id: str, owner: str) -> int:
    """Confirmed in-person RSVPs, as the API counts them (-1 if it would not say)."""
    counts = await h.api.attendee_counts(h.stack.gateway.url, event_id, owner)
    return int(counts.get("confirmed", -1))
