"""`--profile`: after the scenarios, the three services again, under cProfile.

Gateway, membership and events are restarted under harness/profiled_service.py, and the
profiler is switched on (SIGUSR1) and off (SIGUSR2) around the measured windows only, of one
read, one join and one RSVP (waitlist) scenario through the gateway; setup and warm-ups are
not profiled. cProfile slows the services, so these rates are not comparable with the table.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from harness import profiling, stack
from harness.runner import Harness, Row
from report import fmt_ms
from scenarios import rsvp
from scenarios.join import join_window

PROFILED = ("gateway", "membership", "events")


class ProfileSwitch:
    """Switches the profiled services' cProfile on (SIGUSR1) and off (SIGUSR2) around each window."""

    def __init__(self, services: Sequence[stack.ProfiledService]) -> None:
        self.services = services
        self.walls: list[float] = []
        self._started = 0.0

    def started(self) -> None:
        for service in self.services:
            service.process.send_signal(signal.SIGUSR1)
        self._started = time.perf_counter()

    def ended(self) -> None:
        for service in self.services:
            service.process.send_signal(signal.SIGUSR2)
        self.walls.append(time.perf_counter() - self._started)


async def profile_pass(h: Harness, exits: ExitStack, output: stack.OutputLog) -> list[str]:
    services = h.stack
    for name in PROFILED:
        getattr(services, name).stop()
    out_dir = services.tmp / "profiles"
    out_dir.mkdir()
    env = services.service_env
    membership = stack.start_profiled_service(exits, "membership", env, out_dir / "membership.prof", output)
    events = stack.start_profiled_service(exits, "events", env, out_dir / "events.prof", output)
    gateway = stack.start_profiled_service(
        exits, "gateway", stack.gateway_env(env, membership.url, events.url), out_dir / "gateway.prof", output
    )
    # From here on the scenarios talk to the profiled processes.
    services.membership, services.events, services.gateway = membership, events, gateway
    services.pids.update(gateway=gateway.pid, membership=membership.pid, events=events.pid)
    switch = ProfileSwitch([gateway, membership, events])
    h.extra_windows.append(switch)
    h.log("profile pass (the services under cProfile, which slows them: not comparable with the table):")
    community_id = await h.api.create_community(gateway.url, h.tokens.mint("bench-profile-owner"), "Bench profile")
    readers = [h.tokens.mint(f"bench-profile-reader-{i}") for i in range(h.concurrency)]
    windows: list[tuple[Row, tuple[str, ...]]] = []
    path = f"/v1/communities/{community_id}"
    read = await h.get_row("GET community via gateway (profiled)", gateway.port, path, readers)
    windows.append((read, ("gateway", "membership")))
    join, _ = await join_window(h, "join via gateway (profiled)", "prof", gateway.port, None)
    windows.append((join, ("gateway", "membership", "events")))
    rsvp_outcome = await rsvp.run(h)
    if rsvp_outcome.rows:
        windows.append((rsvp_outcome.rows[0], ("gateway", "events")))
    h.extra_windows.remove(switch)
    lines: list[str] = []
    for n, (row, names) in enumerate(windows, start=1):
        r = row.result
        label = row.label if "profiled" in row.label else f"{row.label} (profiled)"
        lines.append(f"{label}: {r.rps:,.0f} req/s, p50 {fmt_ms(r.p50_ms)} ms, {r.error_count} errors")
        for name in names:
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
