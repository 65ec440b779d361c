"""`Instant`: the one type of every date and time a client sends (query
parameters, request bodies, cursors), in every service.

An RFC 3339 date-time with a UTC offset, in the years 1900 to 9000 (in UTC),
given back in UTC with millisecond precision (what BSON keeps).
Refused, as a 422 naming the field: numbers (pydantic would read them as Unix
times), times without an offset (whose instant is a guess), and extreme years.
The range is what keeps all date arithmetic in the services (windows, series,
durations, reminders: at most a few years) away from `datetime`'s limits of
years 1 and 9999, where it raises `OverflowError`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, TypeAdapter, ValidationError, WithJsonSchema
from pydantic_core import PydanticCustomError

from weft_shared.service.clock import to_millis

MIN_YEAR = 1900
MAX_YEAR = 9000

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})")
_SHAPE_MESSAGE = "must be an RFC 3339 date-time with a UTC offset, e.g. 2027-01-12T18:00:00Z"
_RANGE_MESSAGE = f"must be between the years {MIN_YEAR} and {MAX_YEAR}"
# What the JSON schema says: a little narrower than what is accepted (years 1901-8999
# on the sender's clock), so that whatever matches it is accepted, whatever its offset.
_SCHEMA_PATTERN = (
    r"^(19(0[1-9]|[1-9][0-9])|[2-8][0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_SCHEMA_DESCRIPTION = (
    f"RFC 3339 date-time with a UTC offset, years {MIN_YEAR} to {MAX_YEAR}; kept to the millisecond, in UTC"
)


def _rfc3339_only(value: Any) -> Any:
    """Strings must be RFC 3339 with an offset; datetimes (built in code) pass on to the checks."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _RFC3339.fullmatch(value):
        return value
    raise PydanticCustomError("instant_shape", _SHAPE_MESSAGE)


def _utc_millis_in_range(value: datetime) -> datetime:
    # The year on its own clock first: converting year 1 or 9999 to UTC can overflow.
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise PydanticCustomError("instant_range", _RANGE_MESSAGE)
    utc = value.astimezone(UTC)
    # Then in UTC, as stored: every stored time given by a client is in range, so a
    # cursor holding one is accepted back.
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise PydanticCustomError("instant_range", _RANGE_MESSAGE)
    return to_millis(utc)


Instant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_only),
    AfterValidator(_utc_millis_in_range),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": _SCHEMA_PATTERN,
            "description": _SCHEMA_DESCRIPTION,
        }
    ),
]

_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


def parse_instant(value: Any) -> datetime:
    """`value` as an `Instant` (for values that do not come through a model, e.g. in a
    cursor); ValueError if it is not one."""
    try:
        return _INSTANT.validate_python(value)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None
