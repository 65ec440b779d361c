"""Opaque keyset cursors: base64url JSON of the last item's sort key. One
implementation and one error (400 naming `cursor`) for every list of every service."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson

from weft_shared.errors import BadRequest

MAX_CURSOR_LENGTH = 512


def encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(key)).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected: dict[str, type]) -> dict[str, Any] | None:
    """Decode a cursor whose keys and value types must be exactly `expected`."""
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
        if not isinstance(key[name], kind):
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
