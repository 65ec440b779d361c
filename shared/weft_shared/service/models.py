"""Base models for request and response bodies, the same in every service."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import Strict as StrictType

T = TypeVar("T")


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, and lax mode still refuses an
    object where a string is expected, so `{"name": {"$ne": null}}` is a 422 naming
    `name`, never part of a query."""

    model_config = ConfigDict(extra="forbid")


# Numbers and yes/no in request bodies are JSON's own: lax mode would read "5" and true as 5 and 1,
# and "yes" or 1 as true. (Query parameters arrive as text and stay lax.)
WholeNumber = Annotated[int, StrictType()]
Flag = Annotated[bool, StrictType()]


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None
