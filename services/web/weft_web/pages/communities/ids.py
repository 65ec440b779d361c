"""Ids that go into API paths: only what an id can look like, so `..` or `%2F` never reach the gateway."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Path
from starlette.exceptions import HTTPException

_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,200}\Z")


def _checked(value: str) -> str:
    if not _ID.match(value) or value.strip(".") == "":
        raise HTTPException(404)
    return value


def _community_id(community_id: Annotated[str, Path()]) -> str:
    return _checked(community_id)


def checked_id(value: str) -> str:
    """A user, request, link or invitation id from a form or path; the 404 page otherwise."""
    return _checked(value)


CommunityIdPath = Annotated[str, Depends(_community_id)]
