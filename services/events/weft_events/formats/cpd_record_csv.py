"""The CPD record as CSV (RFC 4180), safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from datetime import UTC

from weft_events.schemas import CpdRecordEntry

HEADER = (
    "event_title",
    "community_id",
    "community_name",
    "date",
    "start_time",
    "end_time",
    "timezone",
    "duration_minutes",
    "attendance",
    "checked_in_at_utc",
    "event_id",
)
# OWASP "CSV Injection": a cell starting with one of these is a formula to a spreadsheet.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Stored text may predate the refusal of control characters: a NUL truncates a cell in
# some spreadsheets, and an ESC sequence acts on a terminal that prints the file.
# Line breaks and tabs are kept (a quoted cell may hold them).
NOT_PRINTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def neutralise(cell: str) -> str:
    """Drop control characters, and prefix a would-be formula with a single quote so it
    shows as text (titles are user input)."""
    cell = NOT_PRINTED.sub("", cell)
    return "'" + cell if cell.startswith(FORMULA_TRIGGERS) else cell


def row_of(record: CpdRecordEntry) -> list[str]:
    return [
        record.title,
        record.community_id,
        record.community_name or "",
        record.local_date,
        record.local_start,
        record.local_end,
        record.timezone,
        str(record.duration_minutes),
        record.attendance.value,
        record.checked_in_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        record.event_id,
    ]


def render_csv(records: Iterable[CpdRecordEntry]) -> str:
    out = io.StringIO()
    # Every cell quoted, as OWASP also advises; CRLF line ends as RFC 4180 says.
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    for record in records:
        writer.writerow([neutralise(cell) for cell in row_of(record)])
    return out.getvalue()
