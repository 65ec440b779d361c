"""The short fault run (`make chaos` in small): joins, RSVPs, cancellations, leaves and
scheduling through the gateway while each service is `kill -9`ed, NATS is restarted and
the database is `kill -9`ed (with --sync-on-commit), then every answer is compared with the
databases and the stream. It starts its own stack (its own ports and data folders), since it
kills every piece of it, and prints its figures whatever the outcome.

Nothing here is timed: the faults come at fixed shares of the run, and the counts are of
things that must never happen, however slow the machine.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # the fault run lives in bench/chaos

from chaos.run import ChaosConfig, run_chaos

SHORT = ChaosConfig(
    seconds=30.0,
    max_requests=900,
    clients=6,
    regulars=8,
    roamers=16,
    communities=2,
    events_per_community=2,
    seats=3,
    settle_timeout=90.0,
    seed=15,
    # CI runs the ladder's choice (secantusd-py there); WEFT_CHAOS_DATABASE=secantusd-py tries CI's here.
    database=os.environ.get("WEFT_CHAOS_DATABASE", "auto"),
)


@pytest.mark.timeout(480)
async def test_faults_under_load_lose_nothing_and_double_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = await run_chaos(SHORT, log=print, workdir=tmp_path)
    with capsys.disabled():
        print("\n--- fault run (tests/e2e/test_faults.py) ---\n" + "\n".join(report.lines()))

    assert len(report.faults) + len(report.skipped_faults) == 5 * SHORT.rounds
    assert {f.name.split(" (")[0] for f in report.faults} >= {"kill -9 membership", "kill -9 events", "kill -9 gateway"}
    # The load really ran into the faults and made messages flow between the services.
    assert sum(report.figures.retries.values()) > 0, report.figures
    assert any(key.startswith("leave 2") for key in report.figures.outcomes), report.figures.outcomes
    assert report.findings.figures["messages on the stream"] > 0
    assert report.problems() == dict.fromkeys(report.problems(), 0), "\n".join(report.lines())
