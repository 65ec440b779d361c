"""Weft's speed numbers, measured in one run on this machine (`make bench`).

Starts nats-server, a database (the project's ladder; the rung is printed first), `weft
membership`, `weft events`, `weft gateway` and a bare FastAPI baseline, each its own process,
then runs the scenarios (bench/scenarios/, one module each) and prints the report
(bench/report.py): the table, shares of the baseline measured in the same run, the targets
met or not, and where the CPU went. It prints figures and never asserts: the exit status says
only whether the run itself worked.

    .venv/bin/python bench/run.py [--only rsvp_scale,members_scale] [--list]
                                  [--duration 6] [--warmup 2] [--concurrency 16] ...

See bench/README.md for what each scenario measures and how to read the output.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

import aiohttp
import report
import scenarios
import uvloop
from harness import cpu, loadgen, stack
from harness.api import Api, Tokens
from harness.bus import Bus
from harness.runner import Harness, Outcome
from profile_pass import profile_pass


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated scenarios to run, e.g. rsvp_scale (see --list); the baseline runs too "
        "when a chosen scenario is judged against it",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds per window (default 6)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before each (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument(
        "--client",
        choices=("raw", "aiohttp", "wrk"),
        default="raw",
        help="load generator: raw asyncio HTTP/1.1 (default), aiohttp, or wrk for the GET windows "
        "(one-shot requests such as joins always use raw: every request carries a fresh token)",
    )
    parser.add_argument(
        "--max-requests", type=int, default=1_000_000, help="at most this many requests per measured window"
    )
    parser.add_argument("--request-timeout", type=float, default=10.0, help="per request, seconds (default 10)")
    parser.add_argument(
        "--rsvp-members",
        type=int,
        default=1500,
        help="at most this many fresh members joined for one RSVP window, one RSVP each (default 1500)",
    )
    parser.add_argument(
        "--leave-samples", type=int, default=40, help="member-left -> seat-to-the-next-person samples (default 40)"
    )
    parser.add_argument(
        "--rsvp-existing",
        type=int,
        default=5000,
        help="rsvp_scale: RSVPs already on the large occurrence (default 5000; the small one has 50)",
    )
    parser.add_argument(
        "--seed-budget",
        type=float,
        default=240.0,
        help="rsvp_scale: seconds at most for putting the existing RSVPs in place (default 240; untimed)",
    )
    parser.add_argument(
        "--members-large",
        type=int,
        default=100_000,
        help="members_scale: members of the large community (default 100000; the small one has 1000)",
    )
    parser.add_argument(
        "--members-depth",
        type=int,
        default=500,
        help="members_scale: the deeper page starts after this many members, in both communities (default 500)",
    )
    parser.add_argument(
        "--members-concurrency",
        type=int,
        default=4,
        help="members_scale: connections for its windows (default 4)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, run gateway and membership under cProfile and print where their time goes",
    )
    parser.add_argument(
        "--webhook-messages",
        type=int,
        default=20,
        help="webhook_delivery: messages after the first, each to all 100 endpoints (default 20)",
    )
    parser.add_argument(
        "--thread-replies",
        type=int,
        default=1000,
        help="thread_page: replies in the large thread (default 1000; the small one has 100)",
    )
    parser.add_argument("--verbose", action="store_true", help="echo the services' output")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 600 or not 0 <= args.warmup <= 120:
        parser.error("--duration must be in (0, 600] and --warmup in [0, 120]")
    if not 1 <= args.concurrency <= 1024:
        parser.error("--concurrency must be between 1 and 1024")
    if args.max_requests < 1 or args.request_timeout <= 0:
        parser.error("--max-requests and --request-timeout must be positive")
    if not 11 <= args.rsvp_members <= 20_000 or not 1 <= args.leave_samples <= 1_000:
        parser.error("--rsvp-members must be in [11, 20000] and --leave-samples in [1, 1000]")
    if not 100 <= args.rsvp_existing <= 20_000:
        parser.error("--rsvp-existing must be in [100, 20000]")
    if not 10 <= args.seed_budget <= 3600:
        parser.error("--seed-budget must be in [10, 3600] seconds")
    if not 2_000 <= args.members_large <= 1_000_000:
        parser.error("--members-large must be in [2000, 1000000]")
    if not 1 <= args.members_depth < 1_000 or not 1 <= args.members_concurrency <= 64:
        parser.error("--members-depth must be in [1, 999] and --members-concurrency in [1, 64]")
    if not 600 <= args.thread_replies <= 20_000:
        parser.error("--thread-replies must be in [600, 20000]")
    if args.client == "wrk" and loadgen.wrk_path() is None:
        parser.error("--client wrk: wrk is not installed (apt-get install wrk), use raw or aiohttp")
    try:
        args.scenarios = select(args.only)
    except KeyError as exc:
        parser.error(f"--only: no scenario {exc}; --list shows them")
    return args


def select(only: str) -> list[ModuleType]:
    """The chosen scenarios in the run's order, plus the baseline when one is judged against it."""
    names = {name.strip() for name in only.split(",") if name.strip()}
    if not names:
        return list(scenarios.ALL)
    for name in names:
        if name not in scenarios.BY_NAME:
            raise KeyError(name)
    if any(scenarios.BY_NAME[name].BASELINE for name in names):
        names.add("baseline")
    return [module for module in scenarios.ALL if module.NAME in names]


def log(message: str) -> None:
    print(message, flush=True)


def header(args: argparse.Namespace) -> list[str]:
    cores = os.cpu_count() or 0
    load1, load5, _ = os.getloadavg()
    client = {
        "raw": "raw HTTP/1.1 over asyncio streams on uvloop",
        "aiohttp": "aiohttp ClientSession on uvloop",
        "wrk": "wrk (1 thread) for the GETs, raw asyncio for the rest",
    }[args.client]
    busy0, _, total0 = cpu.machine_cpu()
    time.sleep(1.0)
    busy1, _, total1 = cpu.machine_cpu()
    idle_busy = 100 * (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0
    return [
        f"weft bench: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {platform.node()}, {cores} cores, "
        f"load average {load1:.2f} / {load5:.2f} (1 / 5 min), Python {platform.python_version()}",
        f"before starting, the machine was {idle_busy:.0f} % busy with other work"
        + (" - expect noisy, depressed numbers" if idle_busy > 15 else ""),
        f"load generator: this process (pid {os.getpid()}), {client}, {args.concurrency} connections, closed loop, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s measured per window; the servers are separate "
        f"processes, but all share the same {cores} cores",
    ]


async def run_scenarios(h: Harness, chosen: Sequence[ModuleType]) -> list[Outcome]:
    outcomes = []
    for module in chosen:
        h.log(f"scenario {module.NAME}: {module.TITLE}")
        started = time.perf_counter()
        try:
            outcome: Outcome = await module.run(h)
        except Exception as exc:  # report it and go on: one broken scenario should not hide the others
            trace = traceback.format_exc(limit=-3).strip().splitlines()
            h.log(f"  FAILED: {type(exc).__name__}: {exc}")
            outcome = Outcome(module.NAME, module.TITLE, error=f"{type(exc).__name__}: {exc} | {' | '.join(trace)}")
        outcome.seconds = time.perf_counter() - started
        outcomes.append(outcome)
    return outcomes


async def measure(
    args: argparse.Namespace, services: stack.Stack, exits: ExitStack, output: stack.OutputLog
) -> tuple[list[Outcome], list[str]]:
    tokens = Tokens()
    bus = await Bus.connect(services.nats.url, tokens.settings.stream_name, tokens.settings.subject_prefix)
    try:
        async with aiohttp.ClientSession() as session:
            h = Harness(args, services, Api(session), bus, tokens, log)
            outcomes = await run_scenarios(h, args.scenarios)
            profile_lines = await profile_pass(h, exits, output) if args.profile else []
            return outcomes, profile_lines
    finally:
        await bus.close()


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    head = header(args)
    for line in head:
        log(line)
    log("scenarios: " + ", ".join(module.NAME for module in args.scenarios))
    output = stack.OutputLog(args.verbose)
    with ExitStack() as exits:
        tmp = Path(tempfile.mkdtemp(prefix="weft-bench-"))
        exits.callback(shutil.rmtree, tmp, ignore_errors=True)  # registered first: runs last
        services = stack.start_stack(exits, tmp, output, log)
        log(f"stack up in {time.perf_counter() - started:.1f} s")
        outcomes, profile_lines = uvloop.run(measure(args, services, exits, output))
        streams = stack.jetstream_messages(services.nats.monitor_url)
        lines = report.render(
            head,
            services.database_line,
            outcomes,
            streams=streams,
            notable=output.notable,
            total_seconds=time.perf_counter() - started,
        )
        for line in lines:
            print(line)
        if profile_lines:
            print()
            for line in profile_lines:
                print(line)
        sys.stdout.flush()
    return 1 if any(o.error for o in outcomes) else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for module in scenarios.ALL:
            print(f"{module.NAME:<15} {module.TITLE}" + ("  (judged against the baseline)" if module.BASELINE else ""))
        return 0
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
