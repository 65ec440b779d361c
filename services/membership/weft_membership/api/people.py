"""Routes: the caller's own profile, and the people directory."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from weft_membership.api.deps import Ctx, CurrentPerson, Cursor, KnownPeople, Limit
from weft_membership.schemas import ErasureAccepted, Me, Profile, ProfileUpdate
from weft_membership.usecases import erasure, exports, people
from weft_shared.errors import problem_responses
from weft_shared.service.models import Page

router = APIRouter(prefix="/v1")


@router.get("/me", tags=["people"])
async def get_me(ctx: Ctx, user: CurrentPerson) -> Me:
    """Your profile and your communities."""
    return await people.me(ctx, user)


@router.delete(
    "/me",
    tags=["people"],
    status_code=202,
    responses=problem_responses(409),
)
async def delete_me(request: Request, ctx: Ctx, user: CurrentPerson) -> ErasureAccepted:
    """Erase yourself: your profile, memberships, RSVPs, notifications and webhooks go; your
    posts and attendance stay, anonymised. Completes across services shortly after this answer.
    Tokens issued before the erasure are refused from then on (401); signing in again (a new
    token) starts a new, empty profile."""
    exports_ctx: exports.ExportsContext = request.app.state.exports
    export_ids = [doc["_id"] for doc in await exports_ctx.exports.of_person(user.id, 1000)]
    accepted = await erasure.erase_me(ctx, user)
    await exports.forget_exports_of(exports_ctx, user.id, export_ids)
    known: KnownPeople = request.app.state.known_people
    known.forget(user.id)
    ctx.erased_people.forget(user.id)  # this process refuses the old token from now on
    return accepted


@router.put("/me/profile", tags=["people"])
async def put_profile(ctx: Ctx, user: CurrentPerson, body: ProfileUpdate) -> Profile:
    return await people.update_profile(ctx, user, body)


@router.get("/people", tags=["people"])
async def list_people(
    ctx: Ctx,
    user: CurrentPerson,
    expertise: Annotated[str | None, Query(max_length=60)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Cursor = None,
    limit: Limit = 20,
) -> Page[Profile]:
    """The expertise directory: people the caller may see across communities."""
    return await people.people(ctx, user, expertise=expertise, q=q, cursor=cursor, limit=limit)
