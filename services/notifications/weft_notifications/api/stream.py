"""The caller's live stream of notifications (Server-Sent Events)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response

from weft_notifications.api.deps import Ctx, CurrentPerson
from weft_notifications.api.event_stream import EventStreamResponse
from weft_notifications.jobs.live_inbox import LiveInbox
from weft_notifications.usecases.stream import live_frames
from weft_shared.errors import problem_responses

router = APIRouter(prefix="/v1/me", tags=["notifications"])
# JavaScript's largest exact integer: ids are numbers a browser can hold.
_MAX_EVENT_ID = 2**53 - 1
EventIdHeader = Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=_MAX_EVENT_ID)]
EventIdQuery = Annotated[int | None, Query(ge=0, le=_MAX_EVENT_ID)]

_DESCRIPTION = """\
`text/event-stream` of the caller's new notifications, as they are given:

- `event: notification`, `id:` the item's `seq` (the caller's own number, 1, 2, 3... with no
  gaps), `data:` the item as in `GET /v1/me/notifications`;
- `event: unread`, `data: {"unread": n}`: on connect, then whenever the count changes;
- `: keep-alive` comments while nothing happens; `retry:` advice on connect.

Reconnecting with `Last-Event-ID: n` (or `?last_event_id=n`, for clients that cannot set
headers; the header wins) sends every item after n first, then live ones. Without it the
stream starts from now. The stream ends when the caller's token expires (reconnect with a
fresh one) and when the service shuts down.
"""


def _live_inbox(request: Request) -> LiveInbox:
    live: LiveInbox = request.app.state.live_inbox
    return live


@router.get(
    "/stream",
    summary="The caller's notifications, live (Server-Sent Events)",
    description=_DESCRIPTION,
    response_class=Response,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}, **problem_responses(422)},
)
async def stream(
    request: Request,
    ctx: Ctx,
    me: CurrentPerson,
    last_event_id_header: EventIdHeader = None,
    last_event_id: EventIdQuery = None,
) -> EventStreamResponse:
    after = last_event_id_header if last_event_id_header is not None else last_event_id
    frames = live_frames(ctx, _live_inbox(request), me, after)
    return EventStreamResponse(frames, send_timeout=ctx.settings.stream_send_timeout_seconds)
