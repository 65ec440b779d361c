"""The versions of a library item: list, read, restore."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from weft_resources.api.deps import Ctx, CurrentPerson, Cursor, Limit, ResourceId
from weft_resources.schemas import ResourceView, VersionPage, VersionView
from weft_resources.usecases import versions

VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]

router = APIRouter(prefix="/v1", tags=["library"])


@router.get("/resources/{resource_id}/versions")
async def list_versions(
    ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, cursor: Cursor = None, limit: Limit = 20
) -> VersionPage:
    """Newest first: number, change, who, when, size."""
    return await versions.list_versions(ctx, me, resource_id, cursor=cursor, limit=limit)


@router.get("/resources/{resource_id}/versions/{number}")
async def get_version(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, number: VersionNumber) -> VersionView:
    """One version, with a note's text and its sanitized HTML (or a file's facts)."""
    return await versions.get_version(ctx, me, resource_id, number)


@router.post("/resources/{resource_id}/versions/{number}/restore")
async def restore_version(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, number: VersionNumber) -> ResourceView:
    """Make version `number`'s content current again, as a new version (the creator, owners, facilitators)."""
    return await versions.restore_version(ctx, me, resource_id, number)
