"""`/communities/{id}/manage/links`: propose a link to another community, accept or remove links."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_line
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.ids import CommunityIdPath, checked_id
from weft_web.pages.communities.manage.access import manage_context, manage_path, staff_frame
from weft_web.pages.communities.partners import links_of, with_communities
from weft_web.pages.community_frame import CommunityFrame
from weft_web.rendering import render

router = APIRouter()


async def _page(
    request: Request,
    api: Api,
    frame: CommunityFrame,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
) -> Response:
    links = await links_of(api, frame.id) or []
    context = {
        **manage_context(frame, "links"),
        "links": await with_communities(api, frame.id, links),
        "values": values or {},
        "errors": errors.messages if errors else {},
    }
    return render(request, "pages/communities/manage/links.html", context, status_code=422 if errors else 200)


@router.get("/communities/{community_id}/manage/links")
async def links(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    return await _page(request, api, await staff_frame(api, community_id))


async def _find(api: Api, wanted: str) -> list[dict[str, Any]]:
    """The communities the person may see whose name or web address (slug) is `wanted`."""
    page = await api.get("/v1/communities", q=wanted, limit=100)
    folded = wanted.casefold()
    return [c for c in page["items"] if c.get("slug") == wanted or str(c.get("name", "")).casefold() == folded]


@router.post("/communities/{community_id}/manage/links")
async def propose(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await staff_frame(api, community_id)
    form = await request.form()
    values = {"other": str(form.get("other", ""))}
    errors = FormErrors()
    wanted = errors.check("other", clean_line, values["other"], label=_("Name or web address"), max_length=120)
    found = [] if errors else [c for c in await _find(api, wanted) if c["id"] != frame.id]
    if not errors and not found:
        errors.add("other", _("No community you can see has that name or web address."))
    elif len(found) > 1:
        errors.add("other", _("More than one community has that name: use its web address (slug) instead."))
    if errors:
        return await _page(request, api, frame, values, errors)
    other = found[0]
    body = {
        "to_community_id": other["id"],
        "share_events": form.get("share_events") == "true",
        "share_resources": form.get("share_resources") == "true",
    }
    try:
        await api.post(f"/v1/communities/{frame.id}/links", body)
    except ApiError as error:
        if error.status not in (400, 403, 409, 422):
            raise
        return await _page(request, api, frame, values, FormErrors.from_api(error, {"to_community_id": "other"}))
    return flash.redirect(
        request, manage_path(frame, "links"), _("A link to %(name)s is proposed to its owners.", name=other["name"])
    )


@router.post("/communities/{community_id}/manage/links/{link_id}/{action}")
async def decide(
    request: Request, person: Person, api: Api, community_id: CommunityIdPath, link_id: str, action: str
) -> Response:
    frame = await staff_frame(api, community_id)
    back = manage_path(frame, "links")
    path = f"/v1/communities/{frame.id}/links/{checked_id(link_id)}"
    try:
        if action == "accept":
            await api.post(f"{path}/accept")
        elif action == "remove":
            await api.delete(path)
        else:
            return flash.redirect(request, back, _("That is not something a link can do."), level="error")
    except ApiError as error:
        if error.status not in (403, 404, 409):
            raise
        return flash.redirect(request, back, error.detail, level="error")
    return flash.redirect(
        request, back, _("The link is accepted.") if action == "accept" else _("The link is removed.")
    )
