"""File items: upload (multipart, streamed), a new version, and downloads (streamed from
GridFS, with Range, ETag and a safe Content-Disposition)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import Field, ValidationError

from weft_resources.api.deps import CommunityId, Ctx, CurrentPerson, ResourceId
from weft_resources.api.multipart_upload import drain, openapi_upload_body, receive_upload
from weft_resources.domain.file_delivery import (
    Unsatisfiable,
    content_disposition,
    entity_tag,
    not_modified,
    range_applies,
    requested_range,
)
from weft_resources.domain.file_types import ALLOWED
from weft_resources.domain.resources import Licence
from weft_resources.schemas import (
    AuthorName,
    EditableStatus,
    Provenance,
    ResourceView,
    Summary,
    Tag,
    Title,
    VisibilityName,
)
from weft_resources.usecases import files
from weft_resources.usecases.context import ResourcesContext
from weft_shared.errors import Problem, problem_response, problem_responses
from weft_shared.service.actor import Person
from weft_shared.service.models import Strict

router = APIRouter(tags=["files"])


class FileItemMetadata(Strict):
    """The `metadata` part of an upload: the new item's catalogue fields (as for links and notes)."""

    title: Title
    summary: Summary = ""
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    authors: Annotated[list[AuthorName], Field(max_length=20)] = Field(default_factory=list)
    licence: Licence | None = None
    source: Provenance | None = None
    visibility: VisibilityName = "community"
    status: EditableStatus = "published"


_UPLOAD_DESCRIPTION = (
    "`multipart/form-data` with two parts: `metadata`, a JSON object (`Content-Type: application/json`) "
    "with the item's fields, and `file`, the file itself. Its type is read from its bytes (the declared "
    "type and the name are not trusted) and must be one the library accepts: PDF; PNG, JPEG, GIF, WebP; "
    "Word, Excel, PowerPoint (OOXML or the legacy binary formats); OpenDocument text, spreadsheet, "
    "presentation; UTF-8 plain text, CSV, Markdown."
)
_NEW_VERSION_DESCRIPTION = "`multipart/form-data` with one `file` part: the new version (the same checks as an upload)."
_UPLOAD_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 413, 415, 422)


async def _received(
    request: Request, ctx: ResourcesContext, *, fields: frozenset[str]
) -> tuple[files.ReceivedFile, dict[str, bytes]]:
    settings = ctx.settings
    upload = await receive_upload(
        request, max_file_bytes=settings.max_upload_bytes, allowed_fields=fields, spool_dir=settings.upload_spool_dir
    )
    return files.ReceivedFile(upload.file, upload.filename, upload.size, upload.sha256), upload.fields


async def _refused_early(request: Request, ctx: ResourcesContext, problem: Problem) -> Problem:
    """Read (and drop) the body before refusing, so the refusal reaches a client still sending."""
    await drain(request.stream(), ctx.settings.max_upload_bytes)
    return problem


def _metadata(fields: dict[str, bytes]) -> FileItemMetadata:
    raw = fields.get("metadata")
    if raw is None:
        raise Problem(
            "the upload has no `metadata` part", status=422, errors=[{"field": "metadata", "message": "required"}]
        )
    try:
        return FileItemMetadata.model_validate_json(raw)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(["metadata", *(str(p) for p in e["loc"])]), "message": e["msg"]} for e in exc.errors()
        ]
        named = ", ".join(sorted({e["field"] for e in errors}))
        raise Problem(f"invalid input: {named}", status=422, errors=errors) from None


@router.post(
    "/v1/communities/{community_id}/resources/files",
    status_code=201,
    response_model=ResourceView,
    summary="Upload a file: a new library item of kind `file`",
    responses=_UPLOAD_PROBLEMS,
    openapi_extra=openapi_upload_body(FileItemMetadata.model_json_schema(), description=_UPLOAD_DESCRIPTION),
)
async def upload_file(request: Request, community_id: CommunityId, ctx: Ctx, person: CurrentPerson) -> ResourceView:
    try:
        await files.check_may_upload(ctx, person, community_id)
    except Problem as exc:
        raise await _refused_early(request, ctx, exc) from None
    received, fields = await _received(request, ctx, fields=frozenset({"metadata"}))
    try:
        metadata = _metadata(fields)
        checked = await files.check_file(received)
        view = await files.upload_file(ctx, person, community_id, metadata, checked)
    finally:
        received.file.close()
    return view


@router.post(
    "/v1/resources/{resource_id}/file",
    status_code=201,
    response_model=ResourceView,
    summary="Upload a new version of a file item",
    responses=_UPLOAD_PROBLEMS,
    openapi_extra=openapi_upload_body(None, description=_NEW_VERSION_DESCRIPTION),
)
async def upload_new_version(
    request: Request, resource_id: ResourceId, ctx: Ctx, person: CurrentPerson
) -> ResourceView:
    try:
        await files.check_may_add_version(ctx, person, resource_id)
    except Problem as exc:
        raise await _refused_early(request, ctx, exc) from None
    received, _fields = await _received(request, ctx, fields=frozenset())
    try:
        checked = await files.check_file(received)
        view = await files.add_file_version(ctx, person, resource_id, checked)
    finally:
        received.file.close()
    return view


VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, as the type sniffed from its bytes at upload (one of the allowlist's)",
        "content": {
            file_type.media_type.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for file_type in ALLOWED
        },
    },
    206: {"description": "The byte range asked for (`Content-Range` says which)"},
    304: {"description": "Not modified: the client's copy (If-None-Match) is current"},
    **problem_responses(401, 404, 416),
}


@dataclass(frozen=True, slots=True)
class DownloadConditions:
    """What a download asks beside the file: a byte range, and the client's copy."""

    range: str | None
    if_none_match: str | None
    if_range: str | None


def download_conditions(
    range_header: Annotated[str | None, Header(alias="Range")] = None,
    if_none_match: Annotated[str | None, Header()] = None,
    if_range: Annotated[str | None, Header()] = None,
) -> DownloadConditions:
    return DownloadConditions(range_header, if_none_match, if_range)


Conditions = Annotated[DownloadConditions, Depends(download_conditions)]


@router.get(
    "/v1/resources/{resource_id}/file",
    summary="Download the current version's file",
    responses=_DOWNLOAD_RESPONSES,
    response_class=StreamingResponse,
)
async def download_file(
    resource_id: ResourceId,
    ctx: Ctx,
    person: CurrentPerson,
    asked: Conditions,
) -> Response:
    return await _download(ctx, person, resource_id, None, asked)


@router.get(
    "/v1/resources/{resource_id}/versions/{number}/file",
    summary="Download one version's file",
    responses=_DOWNLOAD_RESPONSES,
    response_class=StreamingResponse,
)
async def download_version_file(
    resource_id: ResourceId,
    number: VersionNumber,
    ctx: Ctx,
    person: CurrentPerson,
    asked: Conditions,
) -> Response:
    return await _download(ctx, person, resource_id, number, asked)


async def _download(
    ctx: ResourcesContext,
    person: Person,
    resource_id: str,
    number: int | None,
    asked: DownloadConditions,
) -> Response:
    found = await files.file_to_download(ctx, person, resource_id, number)
    stored = found.file
    size: int = stored["size"]
    etag = entity_tag(stored["sha256"])
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
        "Content-Disposition": content_disposition(stored["filename"]),
    }
    if not_modified(asked.if_none_match, etag):
        return Response(status_code=304, headers=headers)
    try:
        wanted = requested_range(asked.range, size) if range_applies(asked.if_range, etag) else None
    except Unsatisfiable:
        return problem_response(
            416,
            f"the range asks for no byte of the file, which has {size}",
            errors=[{"field": "Range", "message": "no byte of the file lies in the range"}],
            headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes", "ETag": etag},
        )
    start, length, status = 0, size, 200
    if wanted is not None:
        start, length, status = wanted.start, wanted.length, 206
        headers["Content-Range"] = wanted.content_range(size)
    headers["Content-Length"] = str(length)

    async def body() -> AsyncIterator[bytes]:
        async for piece in ctx.storage.file_contents.read(stored["file_id"], start, length):
            yield piece

    return StreamingResponse(body(), status_code=status, headers=headers, media_type=stored["content_type"])
