"""The dev runner's restarts: back-off doubling from 1 s, and crash reports that say how a
child died and show only what it printed just before."""

from __future__ import annotations

import signal
import sys
import time

from weft_cli.ladder import is_secantus_noise
from weft_cli.procs import ManagedProcess, describe_exit
from weft_cli.supervisor import MAX_BACKOFF, RECENT_OUTPUT_SECONDS, backoff, crash_report


def test_backoff_doubles_from_one_second_up_to_the_cap() -> None:
    assert [backoff(failures) for failures in range(1, 8)] == [1, 2, 4, 8, 16, MAX_BACKOFF, MAX_BACKOFF]


def _printing(*lines: str) -> ManagedProcess:
    """A real child that prints `lines`, then waits to be killed."""
    code = "import sys, time\n" + "".join(f"print({line!r}, flush=True)\n" for line in lines) + "time.sleep(600)\n"
    process = ManagedProcess("printer", [sys.executable, "-c", code])
    process.wait_for_output(lines[-1])
    return process


def test_a_crash_report_names_the_signal_and_shows_recent_output_with_its_time() -> None:
    process = _printing("OverflowError: an old, unrelated traceback", "handling a request")
    process.kill()  # kill -9
    died_at = time.time()
    assert describe_exit(process.returncode) == "was killed by SIGKILL"
    report = crash_report("events", process, died_at=died_at)
    assert report.startswith(f"--- last output of events, from the {RECENT_OUTPUT_SECONDS:.0f} s before it died at ")
    shown = report.splitlines()[1:-1]
    assert [line.split(" ", 1)[1] for line in shown] == [
        "OverflowError: an old, unrelated traceback",
        "handling a request",
    ]
    assert all(time.strptime(line.split(" ", 1)[0], "%H:%M:%S") for line in shown)  # each labelled with its time


def test_a_crash_report_leaves_out_what_was_printed_long_before() -> None:
    process = _printing("OverflowError: an old, unrelated traceback")
    process.kill()
    # As if it had died ten minutes after its last line.
    report = crash_report("events", process, died_at=time.time() + 600)
    assert "OverflowError" not in report
    assert report.startswith(f"--- events printed nothing in the {RECENT_OUTPUT_SECONDS:.0f} s before it died at ")


def test_exit_descriptions() -> None:
    assert describe_exit(1) == "exited with code 1"
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(-signal.SIGTERM) == "was killed by SIGTERM"


def test_only_secantus_lines_about_awaited_reads_are_noise() -> None:
    # What SecantusDB printed every second for the outbox relay's change stream, and at shutdown.
    assert is_secantus_noise("[2026-12-01T03:00:01Z WARN  secantus] Slow query weft_events.outbox getMore 1001ms")
    assert is_secantus_noise("Slow query: {getMore: 123, collection: 'outbox'} took 1000ms")
    assert is_secantus_noise("command getMore failed: CursorNotFound: cursor id 42 not found")
    # Real problems still show.
    assert not is_secantus_noise("Slow query weft_events.events find 2300ms")
    assert not is_secantus_noise("Slow query weft_membership.memberships aggregate 1500ms")
    assert not is_secantus_noise("ERROR secantus: WiredTiger error: No space left on device")
    assert not is_secantus_noise("WriteConflict on weft_events.outbox insert")
