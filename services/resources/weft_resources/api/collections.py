"""Collections: curated, ordered lists of a community's library items."""

from __future__ import annotations

from fastapi import APIRouter, status

from weft_resources.api.deps import CollectionId, CommunityId, Ctx, CurrentPerson, Cursor, Limit
from weft_resources.schemas import (
    CollectionCreate,
    CollectionItemsBody,
    CollectionPatch,
    CollectionSummary,
    CollectionView,
)
from weft_resources.usecases import collections
from weft_shared.errors import problem_responses
from weft_shared.service.models import Page

router = APIRouter(prefix="/v1", tags=["collections"])


@router.post(
    "/communities/{community_id}/collections",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(403, 404, 422),
)
async def create_collection(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, body: CollectionCreate
) -> CollectionView:
    """A new, empty collection (the community's owners and facilitators)."""
    return await collections.create(ctx, me, community_id, body)


@router.get("/communities/{community_id}/collections", responses=problem_responses(400, 404))
async def list_collections(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, cursor: Cursor = None, limit: Limit = 20
) -> Page[CollectionSummary]:
    """Newest first."""
    return await collections.page(ctx, me, community_id, cursor, limit)


@router.get("/collections/{collection_id}", responses=problem_responses(404))
async def get_collection(ctx: Ctx, me: CurrentPerson, collection_id: CollectionId) -> CollectionView:
    """With its items in order: those you may see."""
    return await collections.get(ctx, me, collection_id)


@router.patch("/collections/{collection_id}", responses=problem_responses(403, 404, 422))
async def patch_collection(
    ctx: Ctx, me: CurrentPerson, collection_id: CollectionId, body: CollectionPatch
) -> CollectionView:
    return await collections.update(ctx, me, collection_id, body)


@router.delete(
    "/collections/{collection_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(403, 404)
)
async def delete_collection(ctx: Ctx, me: CurrentPerson, collection_id: CollectionId) -> None:
    await collections.delete(ctx, me, collection_id)


@router.put("/collections/{collection_id}/items", responses=problem_responses(403, 404, 422))
async def put_collection_items(
    ctx: Ctx, me: CurrentPerson, collection_id: CollectionId, body: CollectionItemsBody
) -> CollectionView:
    """Replace the items with this ordered list (at most 500, no repeats; each an item
    you may see in the community's library — else a 422 naming its index)."""
    return await collections.set_items(ctx, me, collection_id, body.resource_ids)
