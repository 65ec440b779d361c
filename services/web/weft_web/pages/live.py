"""`/live`: the signed-in person's notification stream, forwarded to their browser.

The browser's EventSource cannot send the bearer token (and must not know it), so the web app
opens the gateway's `/v1/me/stream` with the session's token and passes the events through
(`event: notification`, `event: unread`, keep-alives) until either side goes away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from weft_shared.service.shutdown import until_stopping
from weft_web.deps import Api, Viewer
from weft_web.gateway import ApiError

router = APIRouter()


@router.get("/live", name="live", include_in_schema=False)
async def live(request: Request, viewer: Viewer, api: Api) -> Response:
    if viewer is None:
        return Response(status_code=204)  # EventSource stops retrying on 204
    last_id = request.headers.get("last-event-id")

    async def relay() -> AsyncIterator[bytes]:
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
        try:
            async with api.stream("GET", "/v1/me/stream", headers=headers, timeout=None) as upstream:
                async for chunk in until_stopping(upstream.aiter_raw()):  # ends on shutdown
                    if await request.is_disconnected():
                        break
                    yield chunk
        except ApiError:
            return  # the token ran out or the service is away: the browser reconnects later

    return StreamingResponse(
        relay(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )
