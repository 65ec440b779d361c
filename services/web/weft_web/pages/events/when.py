"""An event's times as a person reads them: on the event's own wall clock, with its zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weft_web.i18n import _


def instant(value: str) -> datetime:
    """An API timestamp (ISO 8601, `Z` or an offset) as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local(event: dict[str, Any], key: str = "starts_at") -> datetime:
    return instant(str(event[key])).astimezone(zone(str(event["timezone"])))


def day_label(moment: datetime) -> str:
    return _(
        "%(weekday)s %(day)s %(month)s %(year)s",
        weekday=_weekday(moment),
        day=moment.day,
        month=_month(moment.month),
        year=moment.year,
    )


def span_label(event: dict[str, Any]) -> str:
    """Like "Tuesday 1 December 2026, 18:00 to 19:30 (Europe/London)"; the end's day too when it differs."""
    start, end = local(event, "starts_at"), local(event, "ends_at")
    if start.date() == end.date():
        return _(
            "%(day)s, %(start)s to %(end)s (%(zone)s)",
            day=day_label(start),
            start=f"{start:%H:%M}",
            end=f"{end:%H:%M}",
            zone=event["timezone"],
        )
    return _(
        "%(start_day)s %(start)s to %(end_day)s %(end)s (%(zone)s)",
        start_day=day_label(start),
        start=f"{start:%H:%M}",
        end_day=day_label(end),
        end=f"{end:%H:%M}",
        zone=event["timezone"],
    )


def month_name(month: int) -> str:
    return _month(month)


def _weekday(moment: datetime) -> str:
    names = [_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday")]
    return names[moment.weekday()]


def _month(month: int) -> str:
    names = [
        _("January"),
        _("February"),
        _("March"),
        _("April"),
        _("May"),
        _("June"),
        _("July"),
        _("August"),
        _("September"),
        _("October"),
        _("November"),
        _("December"),
    ]
    return names[month - 1]


def weekday_names() -> list[tuple[str, str]]:
    """(short, full) names, Monday first, for a calendar's column headers."""
    return [
        (_("Mon"), _("Monday")),
        (_("Tue"), _("Tuesday")),
        (_("Wed"), _("Wednesday")),
        (_("Thu"), _("Thursday")),
        (_("Fri"), _("Friday")),
        (_("Sat"), _("Saturday")),
        (_("Sun"), _("Sunday")),
    ]
