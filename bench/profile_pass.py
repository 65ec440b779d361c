"""`--profile`: after the scenarios, gateway and membership again, under cProfile.

Both are restarted under harness/profiled_service.py; the profiler is switched on (SIGUSR1)
and off (SIGUSR2) around the measured windows only, of one read and one join through the
gateway. cProfile slows the services, so these rates are not comparable with the table.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from harness import profiling, stack
from harness.runner import Harness
from report import fmt_ms
from scenarios.join import join_window

from weft_cli.procs import ManagedProcess


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


async def profile_pass(h: Harness, exits: ExitStack, output: stack.OutputLog) -> list[str]:
    services = h.stack
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
    h.extra_windows.append(switch)
    port = int(gateway_url.rsplit(":", 1)[1])
    community_id = await h.api.create_community(gateway_url, h.tokens.mint("bench-profile-owner"), "Bench profile")
    readers = [h.tokens.mint(f"bench-profile-reader-{i}") for i in range(h.concurrency)]
    h.log("profile pass (gateway and membership under cProfile, which slows them: not comparable with the table):")
    read = await h.get_row("GET community via gateway (profiled)", port, f"/v1/communities/{community_id}", readers)
    join, _ = await join_window(
        h, "join via gateway (profiled)", "prof", port, None, gateway_url=gateway_url, membership_url=membership_url
    )
    h.extra_windows.remove(switch)
    lines: list[str] = []
    for n, row in enumerate((read, join), start=1):
        r = row.result
        lines.append(f"{row.label}: {r.rps:,.0f} req/s, p50 {fmt_ms(r.p50_ms)} ms, {r.error_count} errors")
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
