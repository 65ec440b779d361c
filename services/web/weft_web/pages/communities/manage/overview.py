"""`/communities/{id}/manage`: the join-requests queue (approve / decline)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.ids import CommunityIdPath, checked_id
from weft_web.pages.communities.manage.access import manage_context, manage_path, staff_frame
from weft_web.rendering import render

router = APIRouter()


@router.get("/communities/{community_id}/manage", name="community_manage")
async def join_requests(
    request: Request,
    person: Person,
    api: Api,
    community_id: CommunityIdPath,
    cursor: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    frame = await staff_frame(api, community_id)
    page = await api.get(f"/v1/communities/{frame.id}/requests", cursor=cursor, limit=50)
    return render(
        request, "pages/communities/manage/requests.html", {**manage_context(frame, "requests"), "page": page}
    )


@router.post("/communities/{community_id}/manage/requests/{request_id}/{decision}")
async def decide(
    request: Request, person: Person, api: Api, community_id: CommunityIdPath, request_id: str, decision: str
) -> Response:
    frame = await staff_frame(api, community_id)
    if decision not in ("approve", "decline"):
        return flash.redirect(request, manage_path(frame), _("That is not a decision."), level="error")
    form = await request.form()
    who = str(form.get("name", ""))[:120] or _("the person")
    try:
        await api.post(f"/v1/communities/{frame.id}/requests/{checked_id(request_id)}/{decision}")
    except ApiError as error:
        if error.status not in (404, 409, 422):
            raise
        return flash.redirect(request, manage_path(frame), _("That request was already decided."), level="error")
    text = _("%(who)s is now a member.", who=who) if decision == "approve" else _("You declined %(who)s.", who=who)
    return flash.redirect(request, manage_path(frame), text)
