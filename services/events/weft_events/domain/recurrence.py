"""Series of occurrences from an RFC 5545 RRULE. No I/O.

The rule is read part by part against an allow-list (dateutil's own parser accepts
INTERVAL=0, COUNT with UNTIL and half-written dates, and words its errors for
Python programmers), then expanded with dateutil from the parts we checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import FR, MO, MONTHLY, SA, SU, TH, TU, WE, WEEKLY, rrule, weekday

from weft_shared.service.times import MAX_YEAR

MAX_OCCURRENCES = 100
MAX_INTERVAL = 52
MAX_SERIES_SPAN = timedelta(days=2 * 365)

_FREQUENCIES = {"WEEKLY": WEEKLY, "MONTHLY": MONTHLY}
_DAYS = {"MO": MO, "TU": TU, "WE": WE, "TH": TH, "FR": FR, "SA": SA, "SU": SU}
_DAY = re.compile(r"^([+-]?[1-5])?(MO|TU|WE|TH|FR|SA|SU)$")
_NUMBER = re.compile(r"^[1-9][0-9]{0,2}$")
_MONTH_DAY = re.compile(r"^[+-]?[1-9][0-9]?$")
_UNTIL = re.compile(r"^(\d{8})(T(\d{6})Z?)?$")
# Parts a facilitator's calendar might send that we do not take, with why.
_REFUSED = {
    "BYHOUR": "the time of day comes from starts_at",
    "BYMINUTE": "the time of day comes from starts_at",
    "BYSECOND": "the time of day comes from starts_at",
    "BYSETPOS": "BYSETPOS is not supported; use BYDAY=1TU, -1FR and the like",
    "BYMONTH": "BYMONTH is not supported; list the months as separate events",
    "BYYEARDAY": "BYYEARDAY is not supported",
    "BYWEEKNO": "BYWEEKNO is not supported",
}


class RecurrenceError(ValueError):
    pass


@dataclass
class Rule:
    """The parts of a rule we accept, as checked values."""

    freq: int
    interval: int = 1
    count: int | None = None
    until: str | None = None  # as sent: its meaning depends on the event's timezone
    by_day: list[weekday] = field(default_factory=list)
    by_month_day: list[int] = field(default_factory=list)
    week_start: weekday = MO


def parse_rule(text: str) -> Rule:
    """Check every part and its value; the message says which and how to fix it."""
    parts: dict[str, str] = {}
    for piece in text.strip().removeprefix("RRULE:").split(";"):
        name, sep, value = piece.partition("=")
        name = name.strip().upper()
        if not sep or not name or not value:
            raise RecurrenceError(f"{piece!r} is not a NAME=VALUE part (e.g. FREQ=WEEKLY;COUNT=6)")
        if name in parts:
            raise RecurrenceError(f"{name} is given twice")
        parts[name] = value.strip().upper()
    freq = parts.pop("FREQ", None)
    if freq not in _FREQUENCIES:
        raise RecurrenceError("the rule needs FREQ=WEEKLY or FREQ=MONTHLY")
    rule = Rule(freq=_FREQUENCIES[freq])
    for name, value in parts.items():
        if name == "INTERVAL":
            rule.interval = _whole(name, value, 1, MAX_INTERVAL)
        elif name == "COUNT":
            rule.count = _whole(name, value, 1, MAX_OCCURRENCES)
        elif name == "UNTIL":
            if not _UNTIL.match(value):
                raise RecurrenceError("UNTIL must be a date (20270630) or a UTC time (20270630T170000Z)")
            rule.until = value
        elif name == "BYDAY":
            rule.by_day = [_day(value, d, monthly=rule.freq == MONTHLY) for d in value.split(",")]
        elif name == "BYMONTHDAY":
            if rule.freq != MONTHLY:
                raise RecurrenceError("BYMONTHDAY goes with FREQ=MONTHLY only")
            rule.by_month_day = [_month_day(d) for d in value.split(",")]
        elif name == "WKST":
            if value not in _DAYS:
                raise RecurrenceError("WKST must be a day: MO, TU, WE, TH, FR, SA or SU")
            rule.week_start = _DAYS[value]
        elif name in _REFUSED:
            raise RecurrenceError(_REFUSED[name])
        else:
            raise RecurrenceError(f"{name} is not a recurrence rule part we know")
    if rule.count is not None and rule.until is not None:
        raise RecurrenceError("give COUNT or UNTIL, not both")
    if rule.count is None and rule.until is None:
        raise RecurrenceError("the rule needs COUNT or UNTIL, so the series ends")
    return rule


def _whole(name: str, value: str, low: int, high: int) -> int:
    if not _NUMBER.match(value) or not low <= int(value) <= high:
        raise RecurrenceError(f"{name} must be a whole number from {low} to {high}")
    return int(value)


def _day(whole: str, value: str, *, monthly: bool) -> weekday:
    match = _DAY.match(value)
    if match is None:
        raise RecurrenceError(f"BYDAY={whole}: each day is MO, TU, WE, TH, FR, SA or SU (monthly: 1MO, -1FR...)")
    ordinal, day = match.groups()
    if ordinal is None:
        return _DAYS[day]
    if not monthly:
        raise RecurrenceError("BYDAY of a weekly rule names days without a number (e.g. BYDAY=TU,TH)")
    return _DAYS[day](int(ordinal))


def _month_day(value: str) -> int:
    if not _MONTH_DAY.match(value) or not 1 <= abs(int(value)) <= 31:
        raise RecurrenceError("BYMONTHDAY must be days of the month from 1 to 31 (or -1 for the last)")
    return int(value)


def _until_local(until: str, tz: ZoneInfo) -> datetime:
    """The last wall-clock moment the series may start: a date means that whole day."""
    match = _UNTIL.match(until)
    assert match is not None  # parse_rule checked it
    try:
        day = datetime.strptime(match.group(1), "%Y%m%d")
        if match.group(3) is None:
            return datetime.combine(day.date(), time.max)
        moment = datetime.strptime(match.group(1) + match.group(3), "%Y%m%d%H%M%S")
        if until.endswith("Z"):
            return moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise RecurrenceError(f"UNTIL={until} is not a real date") from exc
    return moment  # floating: the event's wall clock


def expand_recurrence(text: str, first_start: datetime, tz: str) -> list[datetime]:
    """Occurrence start times (UTC) of an RRULE, computed on local wall time so a
    weekly 18:00 meeting stays at 18:00 across daylight-saving changes. The first
    occurrence is `first_start` itself (RFC 5545 leaves a rule out of step with its
    start undefined, and calendars disagree on it)."""
    rule = parse_rule(text)
    zone = ZoneInfo(tz)
    local_start = first_start.astimezone(zone).replace(tzinfo=None)
    series = rrule(
        rule.freq,
        dtstart=local_start,
        interval=rule.interval,
        count=rule.count,
        until=_until_local(rule.until, zone) if rule.until else None,
        byweekday=rule.by_day or None,
        bymonthday=rule.by_month_day or None,
        wkst=rule.week_start,
    )
    starts: list[datetime] = []
    horizon = local_start + MAX_SERIES_SPAN
    for local in series:
        if not starts and local != local_start:
            raise RecurrenceError(
                f"the rule's first date is {local:%Y-%m-%d %H:%M}, not starts_at ({local_start:%Y-%m-%d %H:%M}):"
                " make starts_at one of the rule's dates"
            )
        if local > horizon:
            break
        start = local.replace(tzinfo=zone).astimezone(UTC)
        if start.year > MAX_YEAR:  # every stored time is one a client could have given
            raise RecurrenceError(f"the series runs past the year {MAX_YEAR}")
        starts.append(start)
        if len(starts) > MAX_OCCURRENCES:
            raise RecurrenceError(f"the rule makes more than {MAX_OCCURRENCES} occurrences")
    if not starts:
        raise RecurrenceError("the rule makes no occurrences (is UNTIL before starts_at?)")
    return starts
