"""Digest periods: which daily or weekly digest is due for a person at an instant,
on their own clock. No I/O.

A period is named by the local date its digest is due on (`daily:2026-12-01`,
`weekly:2026-11-30`). The digest of a period is due from its local hour onwards,
so a job that was down at 08:00 still sends that day's digest at 08:40, and the
period's name (a unique record) keeps it to one. It lists what arrived before
that hour: what comes at 10:00 waits for the next period's digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

DigestKind = Literal["daily", "weekly"]
DIGEST_KINDS: tuple[DigestKind, ...] = ("daily", "weekly")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    """An IANA zone name (tzdata's list: `ZoneInfo` alone would also open file paths)."""
    return name in known_timezones()


@dataclass(frozen=True, slots=True)
class Schedule:
    timezone: str
    hour: int
    weekly_day: Weekday


@dataclass(frozen=True, slots=True)
class Period:
    name: str  # `daily:2026-12-01`: unique per person and period
    due_at: datetime  # the local digest hour of that day, as an instant


def period_due(kind: DigestKind, schedule: Schedule, at: datetime) -> Period:
    """The latest period of this kind whose digest is due at `at` (an aware instant)."""
    zone = ZoneInfo(schedule.timezone)
    local = at.astimezone(zone)
    day = local.date()
    if kind == "daily":
        due_day = day if local.time() >= time(schedule.hour) else day - timedelta(days=1)
    else:
        offset = (day.weekday() - WEEKDAYS.index(schedule.weekly_day)) % 7
        due_day = day - timedelta(days=offset)
        if offset == 0 and local.time() < time(schedule.hour):
            due_day -= timedelta(days=7)
    due_at = datetime.combine(due_day, time(schedule.hour), tzinfo=zone).astimezone(UTC)
    return Period(f"{kind}:{due_day.isoformat()}", due_at)
