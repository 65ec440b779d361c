"""Weft's speed numbers, measured in one run on this machine (`make bench`).

Starts nats-server, a database (the project's ladder), `weft membership`, `weft events`,
`weft gateway` and a bare FastAPI baseline, each in its own process, then drives closed-loop
HTTP load from this process at each scenario in turn and prints requests/s, p50/p99 latency,
errors, each as a share of the baseline, and where the CPU went; then how long a leaver's
seat takes to reach the next person on an event's waitlist. It prints figures and never
asserts: the exit status says only whether the run itself worked.

    .venv/bin/python bench/run.py [--duration 6] [--warmup 2] [--concurrency 16]
                                  [--client raw|aiohttp|wrk] [--rsvp-members 1500]
                                  [--leave-samples 40] [--profile] [--verbose]

See bench/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import events_bench
import loadgen
import profiling
import stack
import uvloop
from loadgen import HttpRequest, Result

from weft_cli.procs import ManagedProcess
from weft_shared.auth import issue_dev_token
from weft_shared.settings import AUDIENCE, DEV_ISSUER, PlatformSettings

READ_TARGET = 0.50  # GET community via the gateway, as a share of the baseline's req/s
JOIN_TARGET = 0.25  # join via the gateway, as a share of the baseline's req/s
MAX_POOL = 200_000  # one-shot join requests minted for one window, at most
RSVP_MEMBERS = 1500  # at most, joined before the RSVP scenario (sized from its warm-up; FerretDB joins are slow)
LEAVE_SAMPLES = 40
RSVP_LABEL = events_bench.RSVP_LABEL


@dataclass
class Scenario:
    label: str
    result: Result
    cpu: stack.CpuWindow | None
    target: float | None = None
    note: str = ""


class Tokens:
    """Dev tokens, minted the way the gateway expects them (HS256, the public dev key)."""

    def __init__(self) -> None:
        # Explicit values, so WEFT_* variables exported in this shell cannot change what is minted;
        # the services get a cleaned environment (WEFT_ENV=dev) and so the same defaults.
        self.settings = PlatformSettings(
            env="dev", auth_signing_key=None, auth_issuer=DEV_ISSUER, auth_audience=AUDIENCE
        )
        self._serial = 0

    def mint(self, sub: str) -> str:
        return issue_dev_token(self.settings, sub, email=f"{sub}@bench.example.org", name=f"Bench {sub}")

    def fresh_user(self, prefix: str) -> str:
        self._serial += 1
        return self.mint(f"{prefix}-{self._serial}")


def auth(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds per scenario (default 6)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument(
        "--client",
        choices=("raw", "aiohttp", "wrk"),
        default="raw",
        help="load generator: raw asyncio HTTP/1.1 (default), aiohttp, or wrk for the GET scenarios "
        "(joins always use raw: every request carries a fresh token)",
    )
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="at most this many requests per measured window"
    )
    parser.add_argument("--request-timeout", type=float, default=10.0, help="per request, seconds (default 10)")
    parser.add_argument(
        "--rsvp-members",
        type=int,
        default=RSVP_MEMBERS,
        help=f"at most this many members joined for the RSVP scenario, one RSVP each (default {RSVP_MEMBERS})",
    )
    parser.add_argument(
        "--leave-samples",
        type=int,
        default=LEAVE_SAMPLES,
        help=f"member-left -> seat-to-the-next-person samples (default {LEAVE_SAMPLES})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, run gateway and membership under cProfile and print where their time goes",
    )
    parser.add_argument("--verbose", action="store_true", help="echo the services' output")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 120:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 120]")
    if not 1 <= args.concurrency <= 1024:
        parser.error("--concurrency must be between 1 and 1024")
    if args.max_requests < 1 or args.request_timeout <= 0:
        parser.error("--max-requests and --request-timeout must be positive")
    if not 1 <= args.rsvp_members <= 20_000 or not 1 <= args.leave_samples <= 1_000:
        parser.error("--rsvp-members must be in [1, 20000] and --leave-samples in [1, 1000]")
    if args.client == "wrk" and loadgen.wrk_path() is None:
        parser.error("--client wrk: wrk is not installed (apt-get install wrk), use raw or aiohttp")
    return args


def log(message: str) -> None:
    print(message, flush=True)


# --- scenarios ----------------------------------------------------------------------------


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


class ProfileSwitch:
    """Switches the profiled services' cProfile on (SIGUSR1) and off (SIGUSR2) around each window."""

    def __init__(self, processes: Sequence[ManagedProcess]) -> None:
        self.processes = processes
        self.walls: list[float] = []
        self._started = 0.0

    def started(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGUSR1)
        self._started = time.perf_counter()

    def ended(self) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGUSR2)
        self.walls.append(time.perf_counter() - self._started)


class Bench:
    def __init__(self, args: argparse.Namespace, services: stack.Stack) -> None:
        self.args = args
        self.stack = services
        self.tokens = Tokens()
        self.extra_windows: list[loadgen.Window] = []  # told about every measured window, after the CPU meter
        # Across warm-ups and windows, checked against the database: 201s, members found, unpublished outboxes.
        self.joins = {"answered 201": 0, "found active in the database": 0, "left unpublished in the outbox": 0}
        self.rsvp: events_bench.RsvpRun | None = None
        self.leave: events_bench.LeaveRun | None = None

    async def closed_loop(
        self, port: int, next_request: loadgen.NextRequest, expected: frozenset[int], *, warmup: float, measure: bool
    ) -> tuple[Result, stack.CpuWindow | None]:
        meter = stack.CpuMeter(self.stack.pids) if measure else None
        window = Windows(meter, *self.extra_windows) if meter else None
        client: loadgen.ClientKind = "aiohttp" if self.args.client == "aiohttp" else "raw"
        result = await loadgen.run_closed_loop(
            port,
            next_request,
            expected=expected,
            concurrency=self.args.concurrency,
            warmup=warmup,
            duration=self.args.duration if measure else self.args.warmup,
            max_requests=self.args.max_requests,
            client=client,
            request_timeout=self.args.request_timeout,
            window=window,
        )
        return result, meter.window if meter else None

    async def get(self, label: str, port: int, path: str, tokens: Sequence[str], target: float | None) -> Scenario:
        """A GET scenario: connection i always sends the same request, as user i when tokens are given."""
        log(f"  {label} ...")
        if self.args.client == "wrk":
            meter = stack.CpuMeter(self.stack.pids)
            headers = [auth(tokens[0])] if tokens else []
            result = loadgen.run_wrk(
                port,
                path,
                headers,
                concurrency=self.args.concurrency,
                warmup=self.args.warmup,
                duration=self.args.duration,
                request_timeout=self.args.request_timeout,
                window=Windows(meter, *self.extra_windows),
            )
            return Scenario(label, result, meter.window, target)
        requests = [
            loadgen.http_request(port, "GET", path, [auth(token)] if token else [])
            for token in (tokens or [""] * self.args.concurrency)
        ]
        result, cpu = await self.closed_loop(
            port, loadgen.cycle_per_worker(requests), frozenset({200}), warmup=self.args.warmup, measure=True
        )
        return Scenario(label, result, cpu, target)

    def join_pool(self, port: int, community_id: str, prefix: str, count: int) -> list[HttpRequest]:
        path = f"/v1/communities/{community_id}/members"
        headers = (("Content-Type", "application/json"),)
        return [
            loadgen.http_request(port, "POST", path, [auth(self.tokens.fresh_user(prefix)), *headers], b"{}")
            for _ in range(count)
        ]

    async def join(
        self, label: str, tag: str, port: int, community_id: str, rate_guess: float, target: float | None
    ) -> Scenario:
        """Each request a new user joining the open community: a real write and an outbox publish.

        Requests (tokens) are minted before each phase: for the warm-up from `rate_guess` (a read
        rate, which a join cannot beat), for the window from the rate the warm-up reached. The
        users are named bench-<tag>-..., and removed again afterwards (see join_check_and_reset).
        """
        log(f"  {label} ...")
        conc = self.args.concurrency
        note = ""
        expected = frozenset({201})
        warm_rps = rate_guess
        answered = 0
        if self.args.warmup > 0:
            count = _pool_size(self.args.warmup, rate_guess, conc)
            warm_pool = self.join_pool(port, community_id, f"bench-{tag}-warm", count)
            warm, _ = await self.closed_loop(port, loadgen.one_shot(iter(warm_pool)), expected, warmup=0, measure=False)
            answered += warm.requests
            warm_rps = warm.rps if warm.rps > 0 else rate_guess
        minted = time.perf_counter()
        pool = self.join_pool(
            port, community_id, f"bench-{tag}-join", _pool_size(self.args.duration, 2 * warm_rps, conc)
        )
        log(f"    minted {len(pool):,} fresh-user tokens in {time.perf_counter() - minted:.1f} s (before the window)")
        result, cpu = await self.closed_loop(port, loadgen.one_shot(iter(pool)), expected, warmup=0, measure=True)
        answered += result.requests
        if result.exhausted:
            note = f"the {len(pool):,} minted users ran out after {result.elapsed:.1f} s"
        # The events service consumes every join too; let it finish before its read model is reset.
        await events_bench.events_caught_up(self.stack.nats.url, self.tokens.settings.stream_name)
        found = stack.join_check_and_reset(
            self.stack.database.url,
            self.stack.database_name,
            self.stack.events_database_name,
            community_id,
            f"bench-{tag}-",
        )
        self.joins["answered 201"] += answered
        self.joins["found active in the database"] += found["active"]
        self.joins["left unpublished in the outbox"] += found["unpublished"]
        return Scenario(label, result, cpu, target, note)

    async def run(self) -> list[Scenario]:
        services = self.stack
        owner = self.tokens.mint("bench-owner")
        community_id = await create_community(services.gateway.url, owner)
        log(f"community {community_id} created through the gateway (open, no code of conduct)")
        readers = [self.tokens.mint(f"bench-reader-{i}") for i in range(self.args.concurrency)]
        read_path = f"/v1/communities/{community_id}"

        log(f"running scenarios ({self.args.warmup:g} s warm-up + {self.args.duration:g} s measured each):")
        baseline = await self.get("baseline FastAPI /ping", services.ping_port, "/ping", [], None)
        via_gateway = await self.get(
            "GET community via gateway", services.gateway.port, read_path, readers, READ_TARGET
        )
        direct = await self.get("GET community direct", services.membership.port, read_path, readers, None)
        rate_guess = max(via_gateway.result.rps, direct.result.rps, 100.0)
        join_gateway = await self.join(
            "join via gateway", "gw", services.gateway.port, community_id, rate_guess, JOIN_TARGET
        )
        join_direct = await self.join(
            "join direct (for attribution)", "direct", services.membership.port, community_id, rate_guess, None
        )
        scenarios = [baseline, via_gateway, direct, join_gateway, join_direct]

        bus = await events_bench.Bus.connect(services.nats.url, self.tokens.settings.stream_name)
        try:
            async with aiohttp.ClientSession() as session:
                api = events_bench.Api(session)
                self.rsvp = await events_bench.rsvp_throughput(self, bus, api, log)
                scenarios.append(
                    Scenario(RSVP_LABEL, self.rsvp.result, self.rsvp.cpu, None, "; ".join(self.rsvp.notes))
                )
                self.leave = await events_bench.leave_to_promotion(self, bus, api, log)
        finally:
            await bus.close()
        return scenarios


def _pool_size(seconds: float, rate: float, concurrency: int) -> int:
    return min(MAX_POOL, math.ceil(seconds * rate * 1.25) + 4 * concurrency)


async def create_community(gateway_url: str, token: str) -> str:
    body = {"name": f"Bench community {os.getpid()}", "purpose": "Measuring Weft's request path"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{gateway_url}/v1/communities", json=body, headers={"Authorization": f"Bearer {token}"}
        ) as response,
    ):
        answer: Any = await response.json(content_type=None)
        if response.status != 201:
            raise RuntimeError(f"POST /v1/communities answered {response.status}: {answer}")
        return str(answer["id"])


# --- the profile pass -------------------------------------------------------------------


async def profile_pass(bench: Bench, exits: ExitStack, output: stack.OutputLog) -> list[str]:
    """Gateway and membership again, under cProfile during the measured windows of a read and a join."""
    services = bench.stack
    services.gateway.stop()
    services.membership.stop()
    out_dir = services.tmp / "profiles"
    out_dir.mkdir()
    membership, membership_url = stack.start_profiled_service(
        exits, "membership", services.service_env, out_dir / "membership.prof", output
    )
    gateway, gateway_url = stack.start_profiled_service(
        exits,
        "gateway",
        stack.gateway_env(services.service_env, membership_url, services.events.url),
        out_dir / "gateway.prof",
        output,
    )
    services.pids.update(gateway=gateway.pid, membership=membership.pid)
    switch = ProfileSwitch([gateway, membership])
    bench.extra_windows.append(switch)
    port = int(gateway_url.rsplit(":", 1)[1])
    community_id = await create_community(gateway_url, bench.tokens.mint("bench-profile-owner"))
    readers = [bench.tokens.mint(f"bench-reader-{i}") for i in range(bench.args.concurrency)]
    log("profile pass (gateway and membership under cProfile, which slows them: not comparable with the table):")
    read = await bench.get(
        "GET community via gateway (profiled)", port, f"/v1/communities/{community_id}", readers, None
    )
    join = await bench.join("join via gateway (profiled)", "prof", port, community_id, read.result.rps, None)
    bench.extra_windows.remove(switch)
    lines: list[str] = []
    for n, scenario in enumerate((read, join), start=1):
        r = scenario.result
        lines.append(f"{scenario.label}: {r.rps:,.0f} req/s, p50 {fmt_ms(r.p50_ms)} ms, {r.error_count} errors")
        for name in ("gateway", "membership"):
            path = out_dir / f"{name}.prof.{n}"
            if not _wait_for_file(path, 30.0):
                lines.append(f"  {name}: no profile written ({path})")
                continue
            summary = profiling.summarize(path, switch.walls[n - 1])
            lines += ["  " + line for line in profiling.render(name, summary, r.requests + r.error_count)]
    return lines


def _wait_for_file(path: Path, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not path.is_file():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


# --- output ---------------------------------------------------------------------------------


def fmt_ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def results_table(scenarios: Sequence[Scenario]) -> list[str]:
    base_rps = scenarios[0].result.rps
    lines = [f"{'scenario':<32}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  vs baseline"]
    for i, s in enumerate(scenarios):
        r = s.result
        ratio = ""
        if i > 0 and base_rps > 0:
            share = r.rps / base_rps
            ratio = f"{100 * share:5.1f} %"
            if s.target is not None:
                verdict = "met" if share >= s.target else "NOT met"
                ratio += f"  (target ≥ {100 * s.target:.0f} %: {verdict})"
        lines.append(
            f"{s.label:<32}{r.rps:>9,.0f}{fmt_ms(r.p50_ms):>9}{fmt_ms(r.p99_ms):>9}{r.error_count:>8}  {ratio}".rstrip()
        )
    return lines


def cpu_table(scenarios: Sequence[Scenario], cores: int) -> list[str]:
    columns = ["client", "gateway", "membership", "events", "database", "nats", "baseline"]
    lines = [
        "CPU per answered request in µs, and (in brackets) the share of one core, per process;",
        f"'rest' is busy CPU of anything else on the machine; 'busy' is the whole machine, of {cores} cores:",
        f"{'scenario':<32}" + "".join(f"{c:>14}" for c in columns) + f"{'rest':>8}{'busy':>7}",
    ]
    for s in scenarios:
        cpu = s.cpu
        if cpu is None or cpu.seconds <= 0:
            continue
        answered = max(1, s.result.requests)
        cells = []
        for column in columns:
            if column not in cpu.per_process:
                cells.append(f"{'-':>14}")
                continue
            seconds = cpu.per_process[column]
            if seconds < 0.005 * cpu.seconds:  # idle in this scenario
                cells.append(f"{'·':>14}")
                continue
            cells.append(f"{1e6 * seconds / answered:>7,.0f} ({100 * seconds / cpu.seconds:3.0f}%)")
        busy = 100 * cpu.machine_busy / cpu.machine_total if cpu.machine_total > 0 else 0.0
        rest = f"{100 * cpu.other / cpu.seconds:.0f}%"
        lines.append(f"{s.label:<32}" + "".join(cells) + f"{rest:>8}{busy:>6.0f}%")
        if cpu.other / cpu.seconds > 0.1 and cpu.others:
            named = ", ".join(f"{name}[{pid}] {100 * sec / cpu.seconds:.0f}%" for name, pid, sec in cpu.others)
            lines.append(f"{'':<32}(rest, busiest: {named})")
        if cpu.machine_total > 0 and cpu.machine_steal / cpu.machine_total > 0.02:
            lines.append(
                f"{'':<32}(hypervisor steal {100 * cpu.machine_steal / cpu.machine_total:.0f}% of the machine)"
            )
    return lines


def hints(scenarios: Sequence[Scenario]) -> list[str]:
    """A few derived figures that say where the time goes (no profiler needed)."""
    baseline, via_gateway, direct, join_gateway, join_direct = scenarios[:5]
    by_label = {s.label: s for s in scenarios}
    lines: list[str] = []

    def cpu_us(s: Scenario, process: str) -> str:
        if s.cpu is None or process not in s.cpu.per_process:
            return "(not measured)"
        return f"{1e6 * s.cpu.per_process[process] / max(1, s.result.requests):,.0f} µs"

    if direct.result.rps > 0 and via_gateway.result.rps > 0:
        lines.append(
            f"- read: the gateway hop keeps {100 * via_gateway.result.rps / direct.result.rps:.0f} % of the direct "
            f"throughput and adds {via_gateway.result.p50_ms - direct.result.p50_ms:+.2f} ms at p50; per request "
            f"the gateway process spends {cpu_us(via_gateway, 'gateway')} of CPU and membership "
            f"{cpu_us(via_gateway, 'membership')} (direct: {cpu_us(direct, 'membership')})."
        )
    if baseline.result.rps > 0 and direct.result.rps > 0:
        lines.append(
            f"- membership alone serves the read at {100 * direct.result.rps / baseline.result.rps:.0f} % of the "
            f"bare /ping's rate; per request the baseline server spends {cpu_us(baseline, 'baseline')} of CPU, "
            f"membership {cpu_us(direct, 'membership')} (FastAPI, auth, database round trips, pydantic) and the "
            f"database {cpu_us(direct, 'database')}."
        )
    if join_gateway.result.rps > 0 and join_direct.result.rps > 0:
        lines.append(
            f"- join: via the gateway {100 * join_gateway.result.rps / join_direct.result.rps:.0f} % of direct; "
            f"per join membership spends {cpu_us(join_direct, 'membership')}, the database "
            f"{cpu_us(join_direct, 'database')} and nats {cpu_us(join_direct, 'nats')} of CPU (direct run)."
        )
    rsvp = by_label.get(RSVP_LABEL)
    if rsvp is not None and rsvp.result.rps > 0:
        lines.append(
            f"- RSVP: per RSVP the events service spends {cpu_us(rsvp, 'events')} of CPU, the database "
            f"{cpu_us(rsvp, 'database')}, the gateway {cpu_us(rsvp, 'gateway')} and nats {cpu_us(rsvp, 'nats')}; "
            f"{100 * rsvp.result.rps / max(join_gateway.result.rps, 1e-9):.0f} % of the join's rate via the gateway."
        )
    for s in scenarios:
        if s.cpu is None or s.cpu.seconds <= 0:
            continue
        loads = {p: sec / s.cpu.seconds for p, sec in s.cpu.per_process.items() if p != "client"}
        saturated = sorted((p for p, load in loads.items() if load >= 0.85), key=lambda p: -loads[p])
        busiest = max(loads, key=lambda p: loads[p])
        busy = s.cpu.machine_busy / s.cpu.machine_total if s.cpu.machine_total > 0 else 0.0
        if saturated:
            named = " and ".join(f"{p} ({100 * loads[p]:.0f} % of a core)" for p in saturated)
            why = f"bottleneck: {named}"
            if any(p in ("gateway", "membership", "baseline") for p in saturated):
                why += "; a Python service cannot use more than one core (one event loop)"
        elif busy >= 0.9:
            why = f"the machine is {100 * busy:.0f} % busy: the processes compete for the cores"
        else:
            why = f"no process saturates a core (busiest: {busiest} {100 * loads[busiest]:.0f} %): waiting dominates"
        lines.append(f"- {s.label}: {why}.")
    return lines


def header(args: argparse.Namespace) -> list[str]:
    cores = os.cpu_count() or 0
    load1, load5, _ = os.getloadavg()
    client = {
        "raw": "raw HTTP/1.1 over asyncio streams on uvloop",
        "aiohttp": "aiohttp ClientSession on uvloop",
        "wrk": "wrk (1 thread) for the GETs, raw asyncio for the joins",
    }[args.client]
    busy0, _, total0 = stack.machine_cpu()
    time.sleep(1.0)
    busy1, _, total1 = stack.machine_cpu()
    idle_busy = 100 * (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    return [
        f"weft bench: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {platform.node()}, {cores} cores, "
        f"load average {load1:.2f} / {load5:.2f} (1 / 5 min), Python {platform.python_version()}",
        f"before starting, the machine was {idle_busy:.0f} % busy with other work"
        + (" - expect noisy, depressed numbers" if idle_busy > 15 else ""),
        f"load generator: this process (pid {os.getpid()}), {client}, {args.concurrency} connections, closed loop; "
        f"the servers are separate processes, but all share the same {cores} cores",
    ]


def run(args: argparse.Namespace) -> int:
    for line in header(args):
        log(line)
    output = stack.OutputLog(args.verbose)
    with ExitStack() as exits:
        tmp = Path(tempfile.mkdtemp(prefix="weft-bench-"))
        exits.callback(shutil.rmtree, tmp, ignore_errors=True)  # registered first: runs last
        started = time.perf_counter()
        services = stack.start_stack(exits, tmp, output, log)
        log(f"stack up in {time.perf_counter() - started:.1f} s")
        bench = Bench(args, services)
        scenarios = uvloop.run(bench.run())

        streams = stack.jetstream_messages(services.nats.monitor_url)

        print()
        for line in results_table(scenarios):
            print(line)
        for s in scenarios:
            if s.result.errors:
                detail = ", ".join(f"{n} x {kind}" for kind, n in s.result.errors.most_common())
                print(f"  errors in {s.label}: {detail}")
            if s.note:
                print(f"  note on {s.label}: {s.note}")
        print()
        for line in cpu_table(scenarios, os.cpu_count() or 0):
            print(line)
        noisy = [s.label for s in scenarios if s.cpu and s.cpu.seconds > 0 and s.cpu.other / s.cpu.seconds > 0.25]
        if noisy:
            print(
                "NOTE: other work used more than a quarter of a core during: "
                + ", ".join(noisy)
                + " ('rest'); those figures are depressed, run again on a quieter machine to compare."
            )
        print()
        print("where the time goes:")
        for line in hints(scenarios):
            print(line)
        print()
        print(
            "joins (warm-ups and windows): "
            + ", ".join(f"{k} {v:,}" for k, v in bench.joins.items())
            + "; JetStream messages: "
            + (", ".join(f"{name} {n:,}" for name, n in streams.items()) or "none")
        )
        if services.rung == "ferretdb":
            print(
                "database: FerretDB on SQLite answers only {_id: x} filters from an index; any other filter "
                "(count of members, the join's guarded upsert, the outbox's clear and sweep) reads the whole "
                "collection, so DB-bound figures here fall as collections grow and differ from MongoDB's."
            )
        if bench.rsvp is not None:
            print()
            print(f"{RSVP_LABEL}:")
            for line in events_bench.rsvp_lines(bench.rsvp, args.concurrency):
                print(line)
        if bench.leave is not None:
            print()
            print(
                "member left -> seat to the next person (timed from membership's member.left message arriving "
                "on NATS to the events service's rsvp.promoted message arriving, both stamped in this process):"
            )
            for line in events_bench.leave_lines(bench.leave):
                print(line)
        for name, lines in output.notable.items():
            print(f"{name} logged {len(lines)} warning/error line(s); the first: {lines[0][:300]}")

        if args.profile:
            print()
            profile_lines = uvloop.run(profile_pass(bench, exits, output))
            for line in profile_lines:
                print(line)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM as Ctrl-C: unwind through the ExitStack so every started process is stopped.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted; everything started was stopped", file=sys.stderr)
        return 130


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
