"""What a scenario receives (`Harness`) and what it hands back for the report (`Outcome`).

A scenario module (bench/scenarios/) has a NAME, a TITLE, BASELINE (True when its rows are
judged as a share of the baseline's rate) and `async def run(h: Harness) -> Outcome`. It
sets up through the API (untimed), measures with `h.closed_loop` or `h.get_row`, and returns
rows for the table, comparisons for the scale targets, and its own lines for the report.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness import loadgen
from harness.api import Api, Tokens, bearer
from harness.bus import Bus
from harness.cpu import CpuMeter, CpuWindow
from harness.loadgen import HttpRequest, Result
from harness.stack import Stack
from harness.stats import percentile_ms

JOIN_BUDGET = 150.0  # seconds at most for joining one batch of members (setup, untimed)
LEARN_TIMEOUT = 90.0  # for the events service to take in their member.joined messages
MAX_POOL = 200_000  # one-shot requests minted for one window, at most
JSON = ("Content-Type", "application/json")
RSVP_BODY = b'{"attendance":"in_person"}'
PROBE = 5  # RSVPs sent one at a time, for the service time without queueing

Log = Callable[[str], None]


# --- what a scenario hands back ------------------------------------------------------------


@dataclass
class Row:
    """One line of the results table: one measured window."""

    label: str
    result: Result
    cpu: CpuWindow | None = None
    baseline_target: float | None = None  # the target, as a share of the baseline's req/s
    note: str = ""


@dataclass
class Comparison:
    """A scale target: the large case against its small twin, measured in the same run."""

    label: str  # e.g. "RSVP, 5,000 vs 50 existing: rate"
    unit: str  # "req/s" or "ms"
    small: float
    large: float
    higher_is_better: bool
    limit: float = 1.2

    @property
    def factor(self) -> float:
        """How many times worse the large case is (1.0 = the same; below 1 = better)."""
        if not (self.small > 0 and self.large > 0):
            return float("nan")
        return self.small / self.large if self.higher_is_better else self.large / self.small

    @property
    def met(self) -> bool | None:
        return None if math.isnan(self.factor) else self.factor <= self.limit


@dataclass
class Outcome:
    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # the scenario's own section of the report
    hints: list[str] = field(default_factory=list)  # its "where the time goes" lines
    seconds: float = 0.0  # wall time of the whole scenario, setup included
    error: str = ""  # the scenario failed: what happened (the others still run)


def cpu_us(row: Row, process: str) -> str:
    """CPU µs per answered request of one process during the row's window."""
    if row.cpu is None or process not in row.cpu.per_process:
        return "(not measured)"
    return f"{1e6 * row.cpu.per_process[process] / max(1, row.result.requests):,.0f} µs"


# --- members joined through membership -----------------------------------------------------


@dataclass
class Members:
    """Fresh users who joined a community through membership, and how soon the events service knew."""

    user_ids: list[str]  # those answered 201, in minting order
    asked: int
    join_seconds: float
    learn_seconds: float  # after the last 201, until the events service had taken them in
    learnt: bool  # False: the messages or the consumers did not catch up within LEARN_TIMEOUT
    errors: str = ""

    def line(self, what: str) -> str:
        n = len(self.user_ids)
        return (
            f"{what}: {n:,} of {self.asked:,} fresh members joined through membership in {self.join_seconds:.1f} s "
            f"({n / max(self.join_seconds, 1e-9):.0f}/s); the events service had consumed their member.joined "
            f"messages {self.learn_seconds:.1f} s after the last 201"
            + ("" if self.learnt else f" (NOT within {LEARN_TIMEOUT:g} s: starting anyway)")
            + (f"; join errors: {self.errors}" if self.errors else "")
        )


@dataclass
class Sent:
    """One-shot requests sent until each got an expected answer (setup, untimed)."""

    done: list[str]  # tags of the requests answered as expected
    wanted: int
    seconds: float
    rounds: int
    errors: str = ""

    @property
    def rate(self) -> float:
        return len(self.done) / self.seconds if self.seconds > 0 else 0.0


# --- the harness -----------------------------------------------------------------------------


class Windows:
    """Several load generator windows as one: started in order, ended in reverse."""

    def __init__(self, *windows: loadgen.Window) -> None:
        self.windows = windows

    def started(self) -> None:
        for window in self.windows:
            window.started()

    def ended(self) -> None:
        for window in reversed(self.windows):
            window.ended()


class Harness:
    def __init__(self, args: argparse.Namespace, stack: Stack, api: Api, bus: Bus, tokens: Tokens, log: Log) -> None:
        self.args = args
        self.stack = stack
        self.api = api
        self.bus = bus
        self.tokens = tokens
        self.log = log
        self.baseline: Row | None = None  # set once the baseline scenario has run
        self.extra_windows: list[loadgen.Window] = []  # told about every measured window, after the CPU meter

    @property
    def concurrency(self) -> int:
        return int(self.args.concurrency)

    async def closed_loop(
        self,
        port: int,
        next_request: loadgen.NextRequest,
        expected: frozenset[int],
        *,
        warmup: float | None = None,
        duration: float | None = None,
        measure: bool = True,
        on_answer: loadgen.OnAnswer | None = None,
        max_requests: int | None = None,
        concurrency: int | None = None,
        request_timeout: float | None = None,
    ) -> tuple[Result, CpuWindow | None]:
        """Closed-loop load; concurrency, warm-up, window and request timeout default to the run's.
        `measure=False`: no CPU accounting (a setup or warm-up phase)."""
        meter = CpuMeter(self.stack.pids) if measure else None
        window = Windows(meter, *self.extra_windows) if meter else None
        client: loadgen.ClientKind = "aiohttp" if self.args.client == "aiohttp" else "raw"
        result = await loadgen.run_closed_loop(
            port,
            next_request,
            expected=expected,
            concurrency=concurrency or self.concurrency,
            warmup=self.args.warmup if warmup is None else warmup,
            duration=self.args.duration if duration is None else duration,
            max_requests=self.args.max_requests if max_requests is None else max_requests,
            client=client,
            request_timeout=request_timeout or self.args.request_timeout,
            window=window,
            on_answer=on_answer,
        )
        return result, meter.window if meter else None

    async def get_row(
        self,
        label: str,
        port: int,
        path: str,
        tokens: Sequence[str],
        baseline_target: float | None = None,
        *,
        concurrency: int | None = None,
        request_timeout: float | None = None,
    ) -> Row:
        """A GET window: connection i always sends the same request, as user i when tokens are given."""
        self.log(f"  {label} ...")
        concurrency = concurrency or self.concurrency
        if self.args.client == "wrk":
            meter = CpuMeter(self.stack.pids)
            result = loadgen.run_wrk(
                port,
                path,
                [bearer(tokens[0])] if tokens else [],
                concurrency=concurrency,
                warmup=self.args.warmup,
                duration=self.args.duration,
                request_timeout=request_timeout or self.args.request_timeout,
                window=Windows(meter, *self.extra_windows),
            )
            return Row(label, result, meter.window, baseline_target)
        requests = [
            loadgen.http_request(port, "GET", path, [bearer(token)] if token else [])
            for token in (tokens or [""] * concurrency)
        ]
        result, cpu = await self.closed_loop(
            port,
            loadgen.cycle_per_worker(requests),
            frozenset({200}),
            concurrency=concurrency,
            request_timeout=request_timeout,
        )
        return Row(label, result, cpu, baseline_target)

    def join_requests(self, port: int, community_id: str, prefix: str, count: int) -> list[HttpRequest]:
        """`count` one-shot joins, each by a fresh user (tagged with the user id)."""
        path = f"/v1/communities/{community_id}/members"
        requests = []
        for _ in range(count):
            user_id, token = self.tokens.fresh_user(prefix)
            requests.append(loadgen.http_request(port, "POST", path, [bearer(token), JSON], b"{}", tag=user_id))
        return requests

    async def join_members(self, community_id: str, prefix: str, count: int, budget: float = JOIN_BUDGET) -> Members:
        """`count` fresh users join, straight to membership (closed loop, untimed, bounded by `budget`);
        then wait until the stream holds their member.joined messages and every consumer (the events
        service's) has taken them in, so the events service knows them as members."""
        subject = self.bus.subject("member.joined", community_id)
        before = await self.bus.count(subject)
        joined: list[str] = []

        def on_answer(request: HttpRequest, status: int) -> None:
            if status == 201:
                joined.append(request.tag)

        started = time.perf_counter()
        result, _ = await self.closed_loop(
            self.stack.membership.port,
            loadgen.one_shot(iter(self.join_requests(self.stack.membership.port, community_id, prefix, count))),
            frozenset({201}),
            warmup=0,
            duration=budget,
            measure=False,
            on_answer=on_answer,
            max_requests=count,
        )
        last_201 = time.perf_counter()
        seen = await self.bus.wait_for_count(subject, before + len(joined), LEARN_TIMEOUT)
        caught_up = await self.bus.caught_up(max(1.0, LEARN_TIMEOUT - (time.perf_counter() - last_201)))
        learnt = seen >= before + len(joined) and caught_up
        joined.sort(key=lambda user_id: int(user_id.rsplit("-", 1)[1]))  # by serial: the order they were minted
        errors = ", ".join(f"{n} x {kind}" for kind, n in result.errors.most_common())
        return Members(joined, count, last_201 - started, time.perf_counter() - last_201, learnt, errors)

    def rsvp_requests(self, port: int, event_id: str, user_ids: Sequence[str]) -> list[HttpRequest]:
        """One in-person RSVP per user (tagged with the user id), pre-serialised."""
        path = f"/v1/events/{event_id}/rsvp"
        return [
            loadgen.http_request(port, "PUT", path, [bearer(self.tokens.mint(u)), JSON], RSVP_BODY, tag=u)
            for u in user_ids
        ]

    async def rsvp_alone(self, url: str, user_ids: Sequence[str]) -> float:
        """p50 in ms of RSVPs sent one at a time (no queueing): the service time."""
        times = []
        for user_id in user_ids:
            sent = time.perf_counter()
            status, _ = await self.api.call("PUT", url, self.tokens.mint(user_id), {"attendance": "in_person"})
            if status == 201:
                times.append(time.perf_counter() - sent)
        return percentile_ms(times, 50)

    async def send_each_once(
        self,
        port: int,
        requests: Sequence[HttpRequest],
        expected: frozenset[int],
        *,
        budget: float,
        rounds: int = 3,
    ) -> Sent:
        """Setup load (untimed, concurrent): every request until it gets an expected answer, resending
        the others for at most `rounds` rounds and `budget` seconds in all."""
        started = time.perf_counter()
        done: list[str] = []
        errors: Counter[str] = Counter()
        pending = list(requests)
        answered: set[int] = set()  # ids of the requests answered as expected

        def on_answer(request: HttpRequest, status: int) -> None:
            if status in expected:
                done.append(request.tag)
                answered.add(id(request))

        used = 0
        while pending and used < rounds and (left := budget - (time.perf_counter() - started)) > 0:
            used += 1
            result, _ = await self.closed_loop(
                port,
                loadgen.one_shot(iter(pending)),
                expected,
                warmup=0,
                duration=left,
                measure=False,
                on_answer=on_answer,
                max_requests=len(pending),
            )
            errors.update(result.errors)
            pending = [r for r in pending if id(r) not in answered]
        return Sent(
            done=done,
            wanted=len(requests),
            seconds=time.perf_counter() - started,
            rounds=used,
            errors=", ".join(f"{n} x {kind}" for kind, n in errors.most_common()),
        )


def pool_size(seconds: float, rate: float, concurrency: int) -> int:
    """One-shot requests for a window of `seconds` at about `rate`, with room to spare."""
    return min(MAX_POOL, math.ceil(seconds * rate * 1.25) + 4 * concurrency)
