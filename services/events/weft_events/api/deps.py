"""What the routes are given: the caller as a `Person`, the use-case context, and
the path and query parameters every resource shares."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from weft_events.usecases.context import EventsContext
from weft_shared.auth import CurrentUser
from weft_shared.service.actor import Person
from weft_shared.service.times import Instant


def events_context(request: Request) -> EventsContext:
    ctx: EventsContext = request.app.state.ctx
    return ctx


def current_person(user: CurrentUser) -> Person:
    return Person(user)


Ctx = Annotated[EventsContext, Depends(events_context)]
CurrentPerson = Annotated[Person, Depends(current_person)]

CommunityId = Annotated[str, Path(min_length=1, max_length=64)]
EventId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=100)]
From = Annotated[Instant | None, Query(alias="from", description="events starting at or after this")]
To = Annotated[Instant | None, Query(description="events starting before this")]
