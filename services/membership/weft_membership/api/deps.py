"""Annotated dependencies of the membership routes: who calls, and the use-case context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query, Request

from weft_membership.usecases import people
from weft_membership.usecases.context import Context
from weft_shared.auth import CurrentUser
from weft_shared.service.actor import Person

Claims = tuple[str, str | None, str | None]


class KnownPeople:
    """The token claims (id, email, name) this process has already recorded, so a
    person's record is written on first sight and when their claims change, not
    on every request. Bounded: forgetting only means recording once more."""

    def __init__(self, limit: int = 50_000) -> None:
        self._limit = limit
        self._seen: set[Claims] = set()

    def is_new(self, claims: Claims) -> bool:
        return claims not in self._seen

    def forget(self, user_id: str) -> None:
        """After an erasure: their next request records them afresh."""
        self._seen = {c for c in self._seen if c[0] != user_id}

    def remember(self, claims: Claims) -> None:
        if len(self._seen) >= self._limit:
            self._seen.clear()
        self._seen.add(claims)


def context(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


Ctx = Annotated[Context, Depends(context)]


async def current_person(request: Request, principal: CurrentUser, ctx: Ctx) -> Person:
    """The verified caller; their record is created the first time they are seen."""
    person = Person(principal)
    known: KnownPeople = request.app.state.known_people
    claims = (principal.sub, principal.email, principal.name)
    if known.is_new(claims):
        await people.register(ctx, person)
        known.remember(claims)
    return person


CurrentPerson = Annotated[Person, Depends(current_person)]
CommunityId = Annotated[str, Path(min_length=1, max_length=64)]
UserIdPath = Annotated[str, Path(min_length=1, max_length=200)]
ObjectIdPath = Annotated[str, Path(min_length=1, max_length=64)]
Cursor = Annotated[str | None, Query(max_length=512)]
Limit = Annotated[int, Query(ge=1, le=100)]
