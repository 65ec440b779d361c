"""Files between the browser and the gateway: uploads forwarded, downloads streamed back.

Neither is held in memory: the browser's upload is spooled to disk by the form parser (the
CSRF check reads the form first), then sent on from that spool in chunks; a download is
passed through chunk by chunk, keeping the API's type, name and safety headers.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from typing import Any

import httpx
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import UploadFile

from weft_web.gateway import Api

# Uploads may take a while on a ward's network; the gateway bounds their size.
_UPLOAD_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
# What a download keeps from the API's answer: its type, its name and its safety rules.
_DOWNLOAD_HEADERS = (
    "content-type",
    "content-length",
    "content-disposition",
    "content-range",
    "accept-ranges",
    "etag",
    "cache-control",
    "x-content-type-options",
    "content-security-policy",
)
_CONDITIONAL_HEADERS = ("range", "if-range", "if-none-match")


def chosen_file(value: Any) -> UploadFile | None:
    """The form's file, or None when nothing was chosen (browsers send an empty, unnamed part)."""
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


async def forward_upload(api: Api, path: str, upload: UploadFile, metadata: dict[str, Any] | None = None) -> Any:
    """POST the file (and the item's details) to the gateway's upload route; the new item's view."""
    upload.file.seek(0)
    parts: dict[str, Any] = {}
    if metadata is not None:
        parts["metadata"] = (None, json.dumps(metadata).encode(), "application/json")
    # The declared type is not trusted by the API (it reads the bytes); send it on anyway.
    parts["file"] = (upload.filename, upload.file, upload.content_type or "application/octet-stream")
    async with api.stream("POST", path, files=parts, timeout=_UPLOAD_TIMEOUT) as response:
        await response.aread()
        return response.json()


async def relay_download(request: Request, api: Api, path: str) -> Response:
    """The API's download, streamed through; an ApiError (404 for whoever may not see it) otherwise."""
    forward = {name: value for name in _CONDITIONAL_HEADERS if (value := request.headers.get(name))}
    stack = AsyncExitStack()
    upstream = await stack.enter_async_context(api.stream("GET", path, headers={"Accept": "*/*", **forward}))
    headers = {name: value for name in _DOWNLOAD_HEADERS if (value := upstream.headers.get(name))}

    async def body() -> Any:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await stack.aclose()

    # The background task closes the upstream answer even if the body is never read.
    return StreamingResponse(
        body(), status_code=upstream.status_code, headers=headers, background=BackgroundTask(stack.aclose)
    )
