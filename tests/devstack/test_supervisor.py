"""The dev runner's restart back-off: doubling from 1 s, capped."""

from __future__ import annotations

from weft_cli.supervisor import MAX_BACKOFF, backoff


def test_backoff_doubles_from_one_second_up_to_the_cap() -> None:
    assert [backoff(failures) for failures in range(1, 8)] == [1, 2, 4, 8, 16, MAX_BACKOFF, MAX_BACKOFF]
