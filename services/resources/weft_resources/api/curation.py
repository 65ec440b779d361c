"""Curation of library items: review status, review-by dates, endorsement, useful marks,
and the community's review-due and recommended lists."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from weft_resources.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit, ResourceId
from weft_resources.schemas import CurationView, ResourcePage, ReviewByBody
from weft_resources.usecases import curation
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1", tags=["curation"])


@router.get("/resources/{resource_id}/curation", responses=problem_responses(404))
async def get_curation(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> CurationView:
    """The item's review status and date, endorsement and useful marks (with yours)."""
    return await curation.curation_of(ctx, me, resource_id)


@router.post("/resources/{resource_id}/publish", responses=problem_responses(403, 404, 409))
async def publish(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> CurationView:
    """A draft or archived item becomes published (its creator, or owners and facilitators).
    Publishing a published item changes nothing."""
    return await curation.publish(ctx, me, resource_id)


@router.post("/resources/{resource_id}/archive", responses=problem_responses(403, 404, 409))
async def archive(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> CurationView:
    """A published item is archived: kept, out of the library's lists. A draft cannot be
    (409); archiving an archived item changes nothing."""
    return await curation.archive(ctx, me, resource_id)


@router.put("/resources/{resource_id}/review-by", responses=problem_responses(403, 404, 409, 422))
async def put_review_by(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, body: ReviewByBody) -> CurationView:
    """After this date the item is flagged for the community's facilitators, once per date
    (owners and facilitators). A new date re-arms it."""
    return await curation.set_review_by(ctx, me, resource_id, body.review_by)


@router.delete(
    "/resources/{resource_id}/review-by",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404, 409),
)
async def delete_review_by(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> None:
    await curation.set_review_by(ctx, me, resource_id, None)


@router.put("/resources/{resource_id}/endorsement", responses=problem_responses(403, 404, 409))
async def put_endorsement(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> CurationView:
    """Recommend a published item (owners and facilitators of its community). Idempotent."""
    return await curation.endorse(ctx, me, resource_id)


@router.delete(
    "/resources/{resource_id}/endorsement",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(403, 404, 409),
)
async def delete_endorsement(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> None:
    await curation.withdraw_endorsement(ctx, me, resource_id)


@router.put(
    "/resources/{resource_id}/useful",
    responses={201: {"description": "marked now"}, **problem_responses(403, 404)},
)
async def put_useful(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, response: Response) -> CurationView:
    """Mark the item useful (anyone who may see it; one mark per person): 201 when marked
    now, 200 when it was marked already."""
    view, added = await curation.mark_useful(ctx, me, resource_id)
    response.status_code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
    return view


@router.delete(
    "/resources/{resource_id}/useful", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404)
)
async def delete_useful(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> None:
    await curation.unmark_useful(ctx, me, resource_id)


@router.get("/communities/{community_id}/resources/review-due", responses=problem_responses(400, 403, 404))
async def review_due(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 20
) -> ResourcePage:
    """Items whose review-by date has come, oldest date first (owners and facilitators)."""
    return await curation.review_due_list(ctx, me, community_id, cursor, limit)


@router.get("/communities/{community_id}/resources/recommended", responses=problem_responses(400, 404))
async def recommended(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 20
) -> ResourcePage:
    """The community's endorsed published items you may see, newest endorsement first."""
    return await curation.recommended(ctx, me, community_id, cursor, limit)
