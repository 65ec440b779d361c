"""The report: what `make bench` prints at the end of a run.

1. the database rung measured and the machine;
2. the table: one row per measured window, with req/s, p50/p95/p99, errors and the rate as a
   share of the baseline measured in the same run;
3. the targets, each met / NOT met: shares of the baseline, and the scale cases against
   their small twins;
4. CPU per request and per process; derived "where the time goes" lines;
5. each scenario's own section (setup sizes, checks, extra figures);
6. failures, and warnings the services logged.

It only prints: whatever the figures, nothing here changes the exit status.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from collections.abc import Sequence

from harness.runner import Comparison, Outcome, Row


def fmt_ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "NOT met")


def results_table(rows: Sequence[Row], baseline: Row | None) -> list[str]:
    base_rps = baseline.result.rps if baseline is not None else 0.0
    lines = [
        f"{'scenario':<44}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}  vs baseline",
    ]
    for row in rows:
        r = row.result
        share = ""
        if row is not baseline and base_rps > 0:
            share = f"{100 * r.rps / base_rps:5.1f} %"
            if row.baseline_target is not None:
                met = r.rps / base_rps >= row.baseline_target
                share += f"  (target ≥ {100 * row.baseline_target:.0f} %: {verdict(met)})"
        lines.append(
            f"{row.label:<44}{r.rps:>9,.1f}{fmt_ms(r.p50_ms):>9}{fmt_ms(r.p95_ms):>9}{fmt_ms(r.p99_ms):>9}"
            f"{r.error_count:>8}  {share}".rstrip()
        )
    for row in rows:
        if row.result.errors:
            detail = ", ".join(f"{n} x {kind}" for kind, n in row.result.errors.most_common())
            lines.append(f"  errors in {row.label}: {detail}")
        if row.note:
            lines.append(f"  note on {row.label}: {row.note}")
    return lines


def targets(rows: Sequence[Row], comparisons: Sequence[Comparison], baseline: Row | None) -> list[str]:
    lines: list[str] = []
    base_rps = baseline.result.rps if baseline is not None else 0.0
    for row in rows:
        if row.baseline_target is None:
            continue
        goal = f"≥ {100 * row.baseline_target:.0f} % of the baseline's req/s"
        if base_rps > 0:
            share = row.result.rps / base_rps
            measured = f"{100 * share:.1f} % ({row.result.rps:,.1f} of {base_rps:,.0f} req/s)"
            met: bool | None = share >= row.baseline_target
        else:
            measured, met = "(no baseline in this run)", None
        lines.append(f"- {row.label}: {goal}; measured {measured}: {verdict(met)}")
    for c in comparisons:
        worse = "lower" if c.higher_is_better else "higher"
        if c.met is None:
            measured = f"small {c.small:,.1f}, large {c.large:,.1f} {c.unit}"
        else:
            measured = f"small {c.small:,.1f} {c.unit}, large {c.large:,.1f} {c.unit}: " + (
                f"{c.factor:.2f} times {worse}" if c.factor >= 1 else f"{1 / c.factor:.2f} times better"
            )
        lines.append(f"- {c.label}: within {c.limit:g} times of the small case; {measured}: {verdict(c.met)}")
    return lines


def cpu_table(rows: Sequence[Row], cores: int) -> list[str]:
    columns = ["client", "gateway", "membership", "events", "database", "nats", "baseline"]
    lines = [
        "CPU per answered request in µs, and (in brackets) the share of one core, per process;",
        f"'rest' is busy CPU of anything else on the machine; 'busy' is the whole machine, of {cores} cores:",
        f"{'scenario':<44}" + "".join(f"{c:>14}" for c in columns) + f"{'rest':>8}{'busy':>7}",
    ]
    for row in rows:
        cpu = row.cpu
        if cpu is None or cpu.seconds <= 0:
            continue
        answered = max(1, row.result.requests)
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
        lines.append(f"{row.label:<44}" + "".join(cells) + f"{rest:>8}{busy:>6.0f}%")
        if cpu.other / cpu.seconds > 0.1 and cpu.others:
            named = ", ".join(f"{name}[{pid}] {100 * sec / cpu.seconds:.0f}%" for name, pid, sec in cpu.others)
            lines.append(f"{'':<44}(rest, busiest: {named})")
        if cpu.machine_total > 0 and cpu.machine_steal / cpu.machine_total > 0.02:
            lines.append(
                f"{'':<44}(hypervisor steal {100 * cpu.machine_steal / cpu.machine_total:.0f}% of the machine)"
            )
    noisy = [r.label for r in rows if r.cpu and r.cpu.seconds > 0 and r.cpu.other / r.cpu.seconds > 0.25]
    if noisy:
        lines.append(
            "NOTE: other work used more than a quarter of a core during: "
            + ", ".join(noisy)
            + " ('rest'); those figures are depressed, run again on a quieter machine to compare."
        )
    return lines


def bottlenecks(rows: Sequence[Row]) -> list[str]:
    """Per window: which process saturated a core, or whether the machine was simply full."""
    lines = []
    for row in rows:
        cpu = row.cpu
        if cpu is None or cpu.seconds <= 0:
            continue
        loads = {p: sec / cpu.seconds for p, sec in cpu.per_process.items() if p != "client"}
        if not loads:
            continue
        saturated = sorted((p for p, load in loads.items() if load >= 0.85), key=lambda p: -loads[p])
        busiest = max(loads, key=lambda p: loads[p])
        busy = cpu.machine_busy / cpu.machine_total if cpu.machine_total > 0 else 0.0
        if saturated:
            why = "bottleneck: " + " and ".join(f"{p} ({100 * loads[p]:.0f} % of a core)" for p in saturated)
            if any(p in ("gateway", "membership", "events", "baseline") for p in saturated):
                why += "; a Python service cannot use more than one core (one event loop)"
        elif busy >= 0.9:
            why = f"the machine is {100 * busy:.0f} % busy: the processes compete for the cores"
        else:
            why = f"no process saturates a core (busiest: {busiest} {100 * loads[busiest]:.0f} %): waiting dominates"
        lines.append(f"- {row.label}: {why}.")
    return lines


def log_summary(line: str) -> str:
    """One service log line, short: its level, message and the last line of its traceback."""
    try:
        record = json.loads(line)
    except ValueError:
        return line[:300]
    if not isinstance(record, dict):
        return line[:300]
    message = " ".join(str(record.get("msg", "")).split())
    summary = f"{record.get('level', '?')}: {message[:160]}"
    exc = str(record.get("exc") or "").strip()
    if exc:
        summary += f" | {exc.splitlines()[-1][:200]}"
    return summary


def render(
    header: Sequence[str],
    database_line: str,
    outcomes: Sequence[Outcome],
    *,
    streams: dict[str, int],
    notable: dict[str, list[str]],
    total_seconds: float,
) -> list[str]:
    rows = [row for o in outcomes for row in o.rows]
    comparisons = [c for o in outcomes for c in o.comparisons]
    baseline = next((o.rows[0] for o in outcomes if o.name == "baseline" and o.rows), None)
    out = ["", "=" * 32 + " weft bench report " + "=" * 32, database_line, *header, ""]
    out += results_table(rows, baseline)
    out += ["", "targets (shares of the baseline measured in this run; scale cases against their small twins):"]
    out += targets(rows, comparisons, baseline) or ["- (no scenario with a target ran)"]
    out += ["", *cpu_table(rows, os.cpu_count() or 0)]
    hints = [f"- {line}" for o in outcomes for line in o.hints]
    out += ["", "where the time goes:", *hints, *bottlenecks(rows)]
    for o in outcomes:
        if o.details:
            out += ["", f"{o.title}:", *(f"- {line}" for line in o.details)]
    failed = [o for o in outcomes if o.error]
    if failed:
        out += ["", "FAILED scenarios (the run goes on without them; the exit status is 1):"]
        out += [f"- {o.name}: {o.error}" for o in failed]
    out += [
        "",
        "JetStream messages at the end: " + (", ".join(f"{name} {n:,}" for name, n in streams.items()) or "none"),
    ]
    for name, lines in notable.items():
        kinds = Counter(log_summary(line) for line in lines)
        out.append(f"{name} logged {len(lines)} warning/error line(s):")
        out += [f"  {n} x {kind}" for kind, n in kinds.most_common(5)]
    took = ", ".join(f"{o.name} {o.seconds:.0f} s" for o in outcomes)
    out.append(f"the run took {total_seconds:.0f} s ({took}, the rest starting and stopping the stack)")
    return out
