"""Keyset cursors over occurrences' start times: (starts_at, event id), opaque to clients."""

from __future__ import annotations

from datetime import datetime

from weft_shared.errors import BadRequest
from weft_shared.service.cursors import decode_cursor, encode_cursor


def encode_start_cursor(starts_at: datetime, event_id: str) -> str:
    return encode_cursor({"starts_at": starts_at, "id": event_id})


def decode_start_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    key = decode_cursor(cursor, {"starts_at": datetime, "id": str})
    return (key["starts_at"], key["id"]) if key is not None else None


def check_window(start: datetime | None, end: datetime | None) -> None:
    """The one check of a `from`/`to` window, on every route that takes one."""
    if start is not None and end is not None and end <= start:
        raise BadRequest("'to' must be after 'from'", field="to")
