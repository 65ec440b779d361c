"""One module per scenario, in the order `make bench` runs them.

Each has NAME (for `--only`), TITLE, BASELINE (True if its rows are judged as a share of the
baseline's rate, which then runs too) and `async def run(h: Harness) -> Outcome`.
"""

from __future__ import annotations

from types import ModuleType

from scenarios import (
    baseline,
    file_transfer,
    join,
    leave,
    members_scale,
    not_found_timing,
    notification_fanout,
    read,
    rsvp,
    rsvp_scale,
    search,
    thread_page,
    web_pages,
    webhook_delivery,
)

ALL: tuple[ModuleType, ...] = (
    baseline,
    read,
    join,
    rsvp,
    leave,
    rsvp_scale,
    members_scale,
    not_found_timing,
    notification_fanout,
    webhook_delivery,
    file_transfer,
    search,
    thread_page,
    web_pages,
)
BY_NAME = {module.NAME: module for module in ALL}
