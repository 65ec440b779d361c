"""Routes: the caller's personal-data exports (everything Weft holds about them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from weft_membership.api.deps import CurrentPerson
from weft_membership.schemas import ExportRequest, ExportRequests
from weft_membership.usecases import exports
from weft_membership.usecases.exports import ExportsContext
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1")


def exports_context(request: Request) -> ExportsContext:
    ctx: ExportsContext = request.app.state.exports
    return ctx


ExportsCtx = Annotated[ExportsContext, Depends(exports_context)]
# Export ids are ObjectId strings: anything else names no export (422, not a lookup).
ExportId = Annotated[str, Path(pattern=r"^[0-9a-f]{24}$")]


@router.post(
    "/me/export",
    status_code=status.HTTP_202_ACCEPTED,
    tags=["people"],
    responses={200: {"model": ExportRequest, "description": "An export of yours is already pending: that one."}},
)
async def request_export(ctx: ExportsCtx, user: CurrentPerson, response: Response) -> ExportRequest:
    """Ask for everything Weft holds about you, from every service, as one archive. It is
    assembled in the background; you are told (inbox, and email per your preferences)
    when it is ready. While one is pending, asking again returns it (200)."""
    view, created = await exports.request_export(ctx, user)
    response.status_code = status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK
    response.headers["Location"] = "/v1/me/export"
    return view


@router.get("/me/export", tags=["people"])
async def list_exports(ctx: ExportsCtx, user: CurrentPerson) -> ExportRequests:
    """Your export requests, newest first (the latest 50)."""
    return ExportRequests(items=await exports.list_exports(ctx, user))


@router.get(
    "/me/export/{export_id}/archive",
    tags=["people"],
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "The archive (zip)."},
        **problem_responses(409, 410),
    },
)
async def download_archive(ctx: ExportsCtx, user: CurrentPerson, export_id: ExportId) -> Response:
    """The archive of one of your exports: 409 while it is being assembled, 410 once expired."""
    data, filename = await exports.archive(ctx, user, export_id)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, no-store"},
    )
