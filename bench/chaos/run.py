"""One fault run: start a stack, set up communities and events, run the load while the faults
happen, let the stack settle, audit, and say what happened in figures."""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from harness.api import Tokens
from harness.stack import OutputLog

from chaos import audit as audit_module
from chaos.audit import PROBLEMS, Findings
from chaos.faults import FaultRecord, plan, run_faults
from chaos.load import Budget, Client, Figures, Person, World, client_loop, join, make_people, schedule
from chaos.stack import ChaosStack, Log

STREAM = "WEFT"
SETUP_TIMEOUT = 90.0  # for the events service to learn the communities and the regulars


@dataclass(frozen=True)
class ChaosConfig:
    seconds: float = 120.0  # of load, at least; it goes on until the last fault has recovered
    max_requests: int = 4000
    clients: int = 8
    regulars: int = 12
    roamers: int = 24
    communities: int = 3
    events_per_community: int = 2
    seats: int = 3  # per event: few, so there are waitlists and promotions
    rounds: int = 2  # of the five faults
    kill_nats: bool = False  # kill -9 nats-server instead of a SIGTERM restart
    nats_nodes: int = 1  # 3: a local NATS cluster with an R3 stream; the fault is kill -9 of its leader
    down_for: float = 1.0  # between a kill and the restart
    retry_for: float = 60.0  # a client's retry budget per request
    settle_timeout: float = 120.0
    seed: int = 7
    database: str = "auto"  # or secantusd-rs, secantusd-py: the SecantusDB server to run
    verbose: bool = False


@dataclass
class ChaosReport:
    config: ChaosConfig
    database: str = ""
    figures: Figures = field(default_factory=Figures)
    faults: list[FaultRecord] = field(default_factory=list)
    skipped_faults: list[str] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    load_seconds: float = 0.0
    settle_seconds: float = 0.0
    settled: bool = False
    notable_lines: dict[str, Counter[str]] = field(default_factory=dict)

    def problems(self) -> dict[str, int]:
        counts = {kind: self.findings.counts[kind] for kind in PROBLEMS}
        counts["faults not recovered from"] = sum(1 for f in self.faults if f.recovered_after is None)
        counts["settle timed out"] = 0 if self.settled else 1
        return counts

    def lines(self) -> list[str]:
        out = [f"database: {self.database}"]
        out.append(
            f"load: {self.figures.requests} logical requests in {self.load_seconds:.1f} s by {self.config.clients} "
            f"clients ({self.config.regulars} regulars, {self.config.roamers} roamers, "
            f"{self.config.communities} communities)"
        )
        out.append("final answers by operation and status:")
        out += [f"  {key:<22} {n}" for key, n in sorted(self.figures.outcomes.items())]
        retried = ", ".join(f"{cause}: {n}" for cause, n in sorted(self.figures.retries.items())) or "none"
        out.append(f"retries (same Idempotency-Key): {retried}")
        out += [f"  {key:<64} {n}" for key, n in sorted(self.figures.retries_after.items())]
        slowest = ", ".join(f"{op} {s:.1f} s" for op, s in sorted(self.figures.slowest.items()))
        out.append(f"longest wait for a final answer (retries included): {slowest}")
        out.append(f"faults injected: {len(self.faults)}")
        for fault in self.faults:
            if fault.recovered_after is None:
                out.append(f"  {fault.name}: NOT recovered {fault.error or ''}")
            else:
                out.append(f"  {fault.name}: every service ready {fault.recovered_after:.1f} s after the fault")
        out += [f"  skipped: {reason}" for reason in self.skipped_faults]
        out.append(f"settle: {self.settle_seconds:.1f} s ({'quiet' if self.settled else 'TIMED OUT'})")
        out += [f"{name}: {n}" for name, n in self.findings.figures.items()]
        for name, messages in sorted(self.notable_lines.items()):
            out.append(f"{name}: {sum(messages.values())} warning/error log line(s), most frequent:")
            out += [f"  {n:>5} x {message}" for message, n in messages.most_common(4)]
        out.append("counts (each must be 0):")
        for kind, n in self.problems().items():
            out.append(f"  {kind:<26} {n}")
            out += [f"      e.g. {example}" for example in self.findings.examples.get(kind, [])]
        return out


async def _until_created(client: Client, world: World, community_id: str, seats: int, deadline: float) -> None:
    """Schedule one event, once the events service knows the community and its owner."""
    while True:
        answer = await schedule(client, world, community_id, seats)
        if answer.ok:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"could not schedule an event in {community_id}: {answer}")
        await asyncio.sleep(0.2)


async def _set_up(client: Client, config: ChaosConfig, tokens: Tokens, nats_url: str) -> World:
    owner_id, owner_token = tokens.fresh_user("owner")
    owner = Person(owner_id, owner_token, roamer=False)
    communities = []
    for index in range(config.communities):
        body = {"name": f"Chaos {index} {owner_id}", "purpose": "Faults under load"}
        answer = await client.send("create", "POST", "/v1/communities", owner.token, body)
        if answer.status != 201:
            raise RuntimeError(f"POST /v1/communities answered {answer}")
        communities.append(str(answer.body["id"]))
    world = World(
        owner, communities, {c: [] for c in communities}, make_people(tokens, config.regulars, config.roamers)
    )
    deadline = time.monotonic() + SETUP_TIMEOUT
    for community_id in communities:
        for _ in range(config.events_per_community):
            await _until_created(client, world, community_id, config.seats, deadline)
    world.created_events.clear()  # the audit counts the load's own scheduling
    for person in world.people:
        if not person.roamer:
            for community_id in communities:
                answer = await join(client, person, community_id)
                if not answer.ok:
                    raise RuntimeError(f"regular {person.user_id} could not join {community_id}: {answer}")
    while await audit_module.consumer_backlog(nats_url, STREAM) > 0:
        if time.monotonic() > deadline:
            raise RuntimeError("the events service did not take in the set-up's messages")
        await asyncio.sleep(0.2)
    return world


async def run_chaos(config: ChaosConfig, *, log: Log = print, workdir: Path | None = None) -> ChaosReport:
    report = ChaosReport(config)
    output = OutputLog(config.verbose)
    root = Path(tempfile.mkdtemp(prefix="weft-chaos-", dir=workdir))
    with ExitStack() as exits:
        exits.callback(shutil.rmtree, root, ignore_errors=True)
        stack = await asyncio.to_thread(
            ChaosStack.start, exits, root, output, log, server=config.database, nats_nodes=config.nats_nodes
        )
        report.database = stack.database.description
        faults, report.skipped_faults = plan(stack, config.rounds, kill_nats=config.kill_nats)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=config.clients * 2)) as session:
            client = Client(session, stack.gateway_url, report.figures, config.retry_for)
            world = await _set_up(client, config, Tokens(), stack.nats_url)
            report.figures.outcomes.clear()
            report.figures.retries.clear()
            report.figures.retries_after.clear()
            report.figures.slowest.clear()
            report.figures.requests = 0
            initial_events = sum(len(e) for e in world.events.values())
            log(f"set up: {config.communities} communities, {initial_events} events; load and faults start")

            rng = random.Random(config.seed)
            started = time.monotonic()
            budget = Budget(config.seconds, config.max_requests)
            fault_task = asyncio.create_task(
                run_faults(
                    stack,
                    faults,
                    first_after=config.seconds * 0.1,
                    spacing=config.seconds * 0.8 / max(1, len(faults)),
                    down_for=config.down_for,
                    log=log,
                    figures=report.figures,
                )
            )
            shares = [world.people[i :: config.clients] for i in range(config.clients)]
            loops = [
                asyncio.create_task(
                    client_loop(
                        client,
                        world,
                        share,
                        budget,
                        random.Random(rng.random()),
                        schedules=index == 0,
                        seats=config.seats,
                    )
                )
                for index, share in enumerate(shares)
                if share
            ]
            report.faults = await fault_task
            # Load goes on for the rest of its time after the last fault (recovery under load).
            await asyncio.sleep(max(0.0, budget.until - time.monotonic()))
            budget.stop.set()
            await asyncio.gather(*loops)
            report.load_seconds = time.monotonic() - started
        log(f"load done: {report.figures.requests} requests; settling ...")
        mongo_url = stack.database.url
        report.settle_seconds, report.settled = await audit_module.settle(
            mongo_url, stack.nats_url, stack.databases, STREAM, config.settle_timeout
        )
        report.findings = await audit_module.audit(
            mongo_url, stack.nats_url, stack.databases, STREAM, world, initial_events
        )
        report.notable_lines = stack.notable_lines()
    return report
