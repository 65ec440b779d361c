"""Moderation: reports, the moderators' queue and actions, the moderation log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from weft_resources.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit
from weft_resources.schemas import ActionBody, ActionResult, LogPage, QueuePage, ReportBody, ReportView
from weft_resources.usecases import moderation
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1", tags=["moderation"])


REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "already reported by you: your open report, unchanged"},
    **problem_responses(403, 404, 409, 422),
}


@router.post("/reports", status_code=status.HTTP_201_CREATED, responses=REPORT_RESPONSES)
async def report_content(ctx: Ctx, me: CurrentPerson, body: ReportBody, response: Response) -> ReportView:
    """Report a thread, a reply or a library item to its community's moderators (members
    of the community and of its partner communities). Who reported is shown to the
    moderators only, never on the bus."""
    view, created = await moderation.report(ctx, me, body.content.kind, body.content.id, body.reason, body.details)
    if not created:
        response.status_code = status.HTTP_200_OK
    return view


@router.post("/moderation/actions", responses=problem_responses(403, 404, 409, 422))
async def moderate(ctx: Ctx, me: CurrentPerson, body: ActionBody) -> ActionResult:
    """hide / unhide / remove (with a reason; final) / lock / unlock (threads) / dismiss
    (close the open reports). Owners and facilitators of the content's community; every
    action closes the content's open reports and is written to the moderation log."""
    return await moderation.act(ctx, me, body.content.kind, body.content.id, body.action, body.reason)


@router.get("/communities/{community_id}/moderation/queue", responses=problem_responses(400, 403, 404))
async def moderation_queue(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 20
) -> QueuePage:
    """Open reports grouped by content, the longest waiting first (moderators only)."""
    return await moderation.queue(ctx, me, community_id, cursor, limit)


@router.get("/communities/{community_id}/moderation/log", responses=problem_responses(400, 403, 404))
async def moderation_log(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 20
) -> LogPage:
    """Every moderator action in the community, newest first (moderators only; kept for audit)."""
    return await moderation.log(ctx, me, community_id, cursor, limit)
