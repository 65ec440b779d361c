"""The one clock: timezone-aware UTC with millisecond precision, so stored and
compared datetimes agree.

BSON dates hold milliseconds: a time with microseconds would come back different
from the database than it went in, and a create response would not equal a later
read. So every time the services make, and every time they are given, is
truncated to the millisecond before it is used.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def now() -> datetime:
    return to_millis(datetime.now(UTC))
