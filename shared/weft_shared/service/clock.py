"""The one clock: timezone-aware UTC, so stored and compared datetimes agree."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
