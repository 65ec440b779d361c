"""`/communities/{id}`: About (purpose, description, code of conduct, partners) and joining.

Joining, asking to join, withdrawing, leaving and accepting a new code of conduct are plain
POST forms (post/redirect/get), so they work without JavaScript.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.conduct import changes, conduct_archive
from weft_web.pages.communities.ids import CommunityIdPath
from weft_web.pages.communities.partners import links_of, partner_communities
from weft_web.pages.communities.standing import standing_of
from weft_web.pages.community_frame import community_frame
from weft_web.rendering import render

router = APIRouter()


async def _about(
    request: Request,
    api: Api,
    community_id: str,
    *,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    # The community and its links at once: one round trip to the gateway fewer per page.
    frame, links = await asyncio.gather(community_frame(api, community_id), links_of(api, community_id))
    community = frame.community
    archive = conduct_archive(request)
    conduct = community.get("code_of_conduct")
    await archive.remember(frame.id, conduct)
    standing = standing_of(community)
    changed: list[Any] | None = None
    accepted = community.get("my_code_of_conduct_version")
    if standing.must_accept_conduct and conduct and accepted:
        previous = await archive.text_of(frame.id, int(accepted))
        changed = changes(previous, str(conduct["text"])) if previous is not None else None
    partners = await partner_communities(api, frame.id, links)
    context = {
        **frame.context("about"),
        "standing": standing,
        "changed": changed,
        "accepted_version": accepted,
        "partners": partners,
        "errors": errors.messages if errors else {},
        "values": values or {},
    }
    return render(request, "pages/communities/about.html", context, status_code=422 if errors else 200)


@router.get("/communities/{community_id}", name="community_about")
async def about(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    return await _about(request, api, community_id)


def _accepted_version(form: Any, errors: FormErrors, expected: int | None) -> int | None:
    """The code-of-conduct version the person ticked; a message when they must and did not."""
    if expected is None:
        return None
    if str(form.get("accept_conduct", "")) != str(expected):
        errors.add("accept_conduct", _("Tick the box to accept the code of conduct before you join."))
        return None
    return expected


@router.post("/communities/{community_id}/join")
async def join(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await community_frame(api, community_id)
    standing = standing_of(frame.community)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    errors = FormErrors()
    message = errors.check("message", clean_text, str(form.get("message", "")), label=_("Message"), max_length=1000)
    version = _accepted_version(form, errors, standing.conduct_version)
    if errors:
        return await _about(request, api, community_id, errors=errors, values=values)
    body: dict[str, Any] = {}
    if version is not None:
        body["accept_code_of_conduct_version"] = version
    if message and standing.action == "ask":
        body["message"] = message
    try:
        result = await api.post(f"/v1/communities/{frame.id}/members", body)
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        refused = FormErrors.from_api(error, {"accept_code_of_conduct_version": "accept_conduct", "message": "message"})
        return await _about(request, api, community_id, errors=refused, values=values)
    if result.get("status") == "pending":
        text = _("Your request to join is sent. A facilitator will look at it.")
    else:
        text = _("Welcome: you are a member of %(name)s.", name=frame.community["name"])
    return flash.redirect(request, f"/communities/{frame.id}", text)


@router.post("/communities/{community_id}/leave")
async def leave(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    """Leave, or withdraw a pending request (the API's DELETE of your own membership does both)."""
    frame = await community_frame(api, community_id)
    pending = frame.community.get("my_status") == "pending"
    try:
        await api.delete(f"/v1/communities/{frame.id}/members/{person.sub}")
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        return flash.redirect(request, f"/communities/{frame.id}", error.detail, level="error")
    text = _("Your request is withdrawn.") if pending else _("You have left %(name)s.", name=frame.community["name"])
    return flash.redirect(request, f"/communities/{frame.id}", text)


@router.post("/communities/{community_id}/conduct/accept")
async def accept_conduct(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await community_frame(api, community_id)
    form = await request.form()
    errors = FormErrors()
    version = _accepted_version(form, errors, standing_of(frame.community).conduct_version)
    if errors or version is None:
        if not errors:
            errors.add("_form", _("This community has no code of conduct to accept."))
        return await _about(request, api, community_id, errors=errors)
    try:
        await api.post(f"/v1/communities/{frame.id}/code-of-conduct/accept", {"version": version})
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        return await _about(
            request, api, community_id, errors=FormErrors.from_api(error, {"version": "accept_conduct"})
        )
    return flash.redirect(
        request, f"/communities/{frame.id}", _("Thank you: you accept version %(v)s of the code of conduct.", v=version)
    )
