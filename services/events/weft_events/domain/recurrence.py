"""Series of occurrences from an RFC 5545 RRULE. No I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrulestr

from weft_shared.service.times import MAX_YEAR

MAX_OCCURRENCES = 100
MAX_SERIES_SPAN = timedelta(days=2 * 365)


class RecurrenceError(ValueError):
    pass


def expand_recurrence(rule: str, first_start: datetime, tz: str) -> list[datetime]:
    """Occurrence start times (UTC) of an RRULE, computed on local wall time so a
    weekly 18:00 meeting stays at 18:00 across daylight-saving changes."""
    try:
        local_start = first_start.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
        parsed = rrulestr(rule, dtstart=local_start, forceset=False, ignoretz=True)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"not a valid RRULE: {exc}") from exc
    freq = getattr(parsed, "_freq", None)
    if freq not in (WEEKLY, MONTHLY):
        raise RecurrenceError("only FREQ=WEEKLY or FREQ=MONTHLY rules are supported")
    if getattr(parsed, "_count", None) is None and getattr(parsed, "_until", None) is None:
        raise RecurrenceError("the rule needs COUNT or UNTIL")
    starts: list[datetime] = []
    horizon = local_start + MAX_SERIES_SPAN
    for local in parsed:
        if local > horizon:
            break
        start = local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)
        if start.year > MAX_YEAR:  # every stored time is one a client could have given
            raise RecurrenceError(f"the series runs past the year {MAX_YEAR}")
        starts.append(start)
        if len(starts) > MAX_OCCURRENCES:
            raise RecurrenceError(f"the rule makes more than {MAX_OCCURRENCES} occurrences")
    if not starts:
        raise RecurrenceError("the rule makes no occurrences")
    return starts
