"""Identifiers for new things: ObjectId strings, which sort by creation time."""

from __future__ import annotations

from bson import ObjectId


def new_id() -> str:
    return str(ObjectId())
