"""What the routes are given: the caller as a `Person` and the use-case context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.preferences import remember_token_email
from weft_shared.auth import CurrentUser
from weft_shared.service.actor import Person


def notifications_context(request: Request) -> NotificationsContext:
    ctx: NotificationsContext = request.app.state.ctx
    return ctx


Ctx = Annotated[NotificationsContext, Depends(notifications_context)]


async def current_person(user: CurrentUser, ctx: Ctx) -> Person:
    """The caller; the address on their token is recorded (mail goes there unless they set one)."""
    person = Person(user)
    await remember_token_email(ctx, person)
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]

CommunityId = Annotated[str, Path(min_length=1, max_length=64)]
NotificationId = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=100)]
