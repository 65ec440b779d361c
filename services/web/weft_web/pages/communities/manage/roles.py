"""`/communities/{id}/manage/members`: change a member's role, remove or ban them."""

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
ROLES = ("owner", "facilitator", "member")


@router.get("/communities/{community_id}/manage/members")
async def members(
    request: Request,
    person: Person,
    api: Api,
    community_id: CommunityIdPath,
    cursor: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    frame = await staff_frame(api, community_id)
    page = await api.get(f"/v1/communities/{frame.id}/members", cursor=cursor, limit=50)
    context = {**manage_context(frame, "members"), "page": page, "me": person.sub}
    return render(request, "pages/communities/manage/members.html", context)


@router.post("/communities/{community_id}/manage/members/{user_id}/role")
async def change_role(
    request: Request, person: Person, api: Api, community_id: CommunityIdPath, user_id: str
) -> Response:
    frame = await staff_frame(api, community_id)
    form = await request.form()
    role = str(form.get("role", ""))
    back = manage_path(frame, "members")
    if role not in ROLES:
        return flash.redirect(request, back, _("Choose a role."), level="error")
    try:
        changed = await api.patch(f"/v1/communities/{frame.id}/members/{checked_id(user_id)}", {"role": role})
    except ApiError as error:
        if error.status not in (403, 404, 409, 422):
            raise
        return flash.redirect(request, back, error.detail, level="error")
    who = changed.get("display_name") or user_id
    return flash.redirect(request, back, _("%(who)s is now %(role)s.", who=who, role=role))


@router.post("/communities/{community_id}/manage/members/{user_id}/remove")
async def remove(request: Request, person: Person, api: Api, community_id: CommunityIdPath, user_id: str) -> Response:
    frame = await staff_frame(api, community_id)
    form = await request.form()
    ban = form.get("ban") == "true"
    back = manage_path(frame, "members")
    try:
        await api.request(
            "DELETE",
            f"/v1/communities/{frame.id}/members/{checked_id(user_id)}",
            params={"ban": "true" if ban else None},
        )
    except ApiError as error:
        if error.status not in (403, 404, 409, 422):
            raise
        return flash.redirect(request, back, error.detail, level="error")
    who = str(form.get("name", ""))[:120] or user_id
    text = _("%(who)s is banned.", who=who) if ban else _("%(who)s is removed.", who=who)
    return flash.redirect(request, back, text)
