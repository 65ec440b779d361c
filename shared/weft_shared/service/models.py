"""Base models for request and response bodies, the same in every service."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator, model_validator
from pydantic import Strict as StrictType

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, and lax mode still refuses an
    object where a string is expected, so `{"name": {"$ne": null}}` is a 422 naming
    `name`, never part of a query."""

    model_config = ConfigDict(extra="forbid")


def patch_validators(*never_null: str, empty: str = "give at least one field to change") -> tuple[Any, Any]:
    """The two validators of a PATCH body (what `patch_body_schema` says in its schema), to
    assign in its class: `_something, _not_null = patch_validators(...)`. They refuse an
    empty body (with `empty`), and null for the fields named (every field when none are);
    a null's error names its field, as the validator runs only for the fields sent."""

    def something(body: M) -> M:
        if not body.model_fields_set:
            raise ValueError(empty)
        return body

    def not_null(value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value

    return model_validator(mode="after")(something), field_validator(*(never_null or ("*",)))(not_null)


# Numbers and yes/no in request bodies are JSON's own: lax mode would read "5" and true as 5 and 1,
# and "yes" or 1 as true. (Query parameters arrive as text and stay lax.)
WholeNumber = Annotated[int, StrictType()]
Flag = Annotated[bool, StrictType()]


class Page(BaseModel, Generic[T]):
    """One page of a keyset-paginated list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None
