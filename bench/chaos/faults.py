"""The faults: `kill -9` of each service, a NATS restart, a database `kill -9`, each followed
by a restart in place and a wait until every service says it is ready again.

They run one after another while the load goes on; the blocking parts (signals, waiting for
ports) run in a thread so the clients keep sending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from chaos.load import Figures
from chaos.stack import ChaosStack, Log


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[], None]
    recover: Callable[[], None]


@dataclass(frozen=True)
class FaultRecord:
    name: str
    recovered_after: float | None  # seconds from the fault until every service was ready; None: never
    error: str | None = None


def plan(stack: ChaosStack, rounds: int = 1, *, kill_nats: bool = False) -> tuple[list[Fault], list[str]]:
    """The faults to inject (`rounds` times over), and those skipped with the reason.

    The database comes last in each round: a service killed inside a transaction leaves it
    open, and its documents unwritable, until the server expires it (60 s on mongod and on
    secantusd-rs) or restarts (secantusd-py never expires one; docs/secantusdb.md, item 2)."""
    faults = [
        Fault(f"kill -9 {name}", lambda n=name: stack.kill_service(n), lambda n=name: stack.start_service(n))  # type: ignore[misc]
        for name in ("membership", "events", "gateway")
    ]
    if stack.cluster is not None:
        faults.append(
            Fault("kill -9 the stream leader's nats-server", stack.kill_stream_leader, stack.start_killed_leader)
        )
    elif kill_nats:
        faults.append(Fault("kill -9 nats-server (same port and store)", stack.kill_nats, stack.nats.start))
    else:
        faults.append(Fault("restart nats-server (SIGTERM, same port and store)", stack.restart_nats, lambda: None))
    skipped: list[str] = []
    if stack.database_restartable:
        faults.append(
            Fault("kill -9 database (it runs with --sync-on-commit)", stack.kill_database, stack.start_database)
        )
    else:
        skipped.append(f"database restart: {stack.database.kind} is not a server this run started")
    return faults * rounds, skipped * rounds


async def run_faults(
    stack: ChaosStack,
    faults: list[Fault],
    *,
    first_after: float,
    spacing: float,
    down_for: float,
    log: Log,
    figures: Figures,
) -> list[FaultRecord]:
    records: list[FaultRecord] = []
    await asyncio.sleep(first_after)
    for index, fault in enumerate(faults):
        if index:
            await asyncio.sleep(spacing)
        log(f"fault {index + 1}/{len(faults)}: {fault.name}")
        figures.phase = fault.name.split(" (")[0]
        started = time.monotonic()
        try:
            await asyncio.to_thread(fault.inject)
            await asyncio.sleep(down_for)
            await asyncio.to_thread(fault.recover)
            waited = await asyncio.to_thread(stack.wait_ready)
            recovered = None if waited is None else time.monotonic() - started
        except Exception as exc:  # a piece that does not come back is a finding, reported as such
            records.append(FaultRecord(fault.name, None, f"{type(exc).__name__}: {exc}"))
            log(f"  did not recover: {exc}")
            continue
        records.append(FaultRecord(fault.name, recovered))
        if recovered is None:
            log(f"  not ready again: {', '.join(stack.unready())}")
        else:
            log(f"  every service ready again {recovered:.1f} s after the fault")
    return records
