"""Opaque keyset cursors: base64url JSON of the last item's sort key. One
implementation and one error (400 naming `cursor`) for every list of every service.

A cursor comes back from the client, so it is input like any other: a key's value
must have the expected type, and a time in it is an `Instant` (RFC 3339 with an
offset, years 1900..9000) or the cursor is refused."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from weft_shared.errors import BadRequest
from weft_shared.service.times import parse_instant

MAX_CURSOR_LENGTH = 512


def encode_cursor(key: dict[str, Any]) -> str:
    """`key`'s values are JSON values, or datetimes (written as RFC 3339)."""
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected: dict[str, type]) -> dict[str, Any] | None:
    """Decode a cursor whose keys and value types must be exactly `expected`
    (`datetime`: an `Instant` written by `encode_cursor`, given back as a UTC datetime)."""
    if cursor is None or cursor == "":
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise BadRequest("cursor is malformed", field="cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise BadRequest("cursor is malformed", field="cursor") from exc
    if not isinstance(key, dict) or set(key) != set(expected):
        raise BadRequest("cursor is malformed", field="cursor")
    for name, kind in expected.items():
        if kind is datetime:
            try:
                key[name] = parse_instant(key[name])
            except ValueError as exc:
                raise BadRequest("cursor is malformed", field="cursor") from exc
        elif not isinstance(key[name], kind) or (kind is int and isinstance(key[name], bool)):
            raise BadRequest("cursor is malformed", field="cursor")
    return key


def split_page(
    docs: list[dict[str, Any]], limit: int, cursor_key: Callable[[dict[str, Any]], dict[str, Any]]
) -> tuple[list[dict[str, Any]], str | None]:
    """Given up to `limit + 1` documents in key order, return the page and the
    cursor for the next one (None when this is the last page)."""
    page = docs[:limit]
    next_cursor = encode_cursor(cursor_key(page[-1])) if len(docs) > limit and page else None
    return page, next_cursor
