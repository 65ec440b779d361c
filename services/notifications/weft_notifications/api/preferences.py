"""The caller's notification preferences."""

from __future__ import annotations

from fastapi import APIRouter

from weft_notifications.api.deps import Ctx, CurrentPerson
from weft_notifications.schemas import PreferencesUpdate, PreferencesView
from weft_notifications.usecases import preferences
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1/me", tags=["notification preferences"])


@router.get("/notification-preferences")
async def get_preferences(ctx: Ctx, me: CurrentPerson) -> PreferencesView:
    """Every notification type's channel (defaults filled in), per-community choices, the
    address mail goes to, the digest schedule, and the known types and channels."""
    return await preferences.get_preferences(ctx, me)


@router.put("/notification-preferences", responses=problem_responses(422))
async def put_preferences(ctx: Ctx, me: CurrentPerson, body: PreferencesUpdate) -> PreferencesView:
    """Replace the whole document (idempotent). Channels: in_app, email, digest_daily,
    digest_weekly, off; a muted community sends nothing but notices about you."""
    return await preferences.replace_preferences(ctx, me, body)
