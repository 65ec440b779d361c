"""A month as weeks of days (Monday first), each day with the events on its local date."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from weft_web.pages.events.when import local


@dataclass
class Day:
    date: date
    in_month: bool
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, value: str | None, today: date) -> Month:
        """`2026-12`; this month when absent or not a month."""
        try:
            year, month = (int(part) for part in (value or "").split("-", 1))
            if 1 <= month <= 12 and 1970 <= year <= 9998:
                return cls(year, month)
        except ValueError:
            pass
        return cls(today.year, today.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def previous(self) -> Month:
        return Month(self.year - 1, 12) if self.month == 1 else Month(self.year, self.month - 1)

    @property
    def next(self) -> Month:
        return Month(self.year + 1, 1) if self.month == 12 else Month(self.year, self.month + 1)

    def window(self) -> tuple[datetime, datetime]:
        """UTC instants that cover every time zone's view of the month (a day's margin each side)."""
        first = datetime(self.year, self.month, 1, tzinfo=UTC)
        after = datetime(self.next.year, self.next.month, 1, tzinfo=UTC)
        return first - timedelta(days=1), after + timedelta(days=1)

    def weeks(self, events: list[dict[str, Any]]) -> list[list[Day]]:
        by_date: dict[date, list[dict[str, Any]]] = {}
        for event in events:
            by_date.setdefault(local(event).date(), []).append(event)
        grid = calendar.Calendar(firstweekday=0).monthdatescalendar(self.year, self.month)
        return [
            [Day(d, d.month == self.month, by_date.get(d, []) if d.month == self.month else []) for d in week]
            for week in grid
        ]
