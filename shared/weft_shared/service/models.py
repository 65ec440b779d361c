"""Base models for request and response bodies, the same in every service."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, and lax mode still refuses an
    object where a string is expected, so `{"name": {"$ne": null}}` is a 422 naming
    `name`, never part of a query."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None
