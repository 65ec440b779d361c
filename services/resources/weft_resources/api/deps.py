"""What the routes are given: the caller as a `Person`, the use-case context, and
the path and query parameters every resource shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from weft_resources.usecases.context import ResourcesContext
from weft_shared.auth import CurrentUser
from weft_shared.service.actor import Person


def resources_context(request: Request) -> ResourcesContext:
    ctx: ResourcesContext = request.app.state.ctx
    return ctx


def current_person(user: CurrentUser) -> Person:
    return Person(user)


Ctx = Annotated[ResourcesContext, Depends(resources_context)]
CurrentPerson = Annotated[Person, Depends(current_person)]

CommunityId = Annotated[str, Path(min_length=1, max_length=64)]
ResourceId = Annotated[str, Path(min_length=1, max_length=64)]
CollectionId = Annotated[str, Path(min_length=1, max_length=64)]
ThreadId = Annotated[str, Path(min_length=1, max_length=64)]
ReplyId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=100)]
