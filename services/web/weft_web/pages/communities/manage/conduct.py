"""`/communities/{id}/manage/conduct`: publish a new version of the code of conduct."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.conduct import conduct_archive
from weft_web.pages.communities.ids import CommunityIdPath
from weft_web.pages.communities.manage.access import manage_context, staff_frame
from weft_web.pages.community_frame import CommunityFrame
from weft_web.rendering import render

router = APIRouter()


def _form(request: Request, frame: CommunityFrame, text: str, errors: FormErrors | None = None) -> Response:
    context = {
        **manage_context(frame, "conduct"),
        "values": {"text": text},
        "errors": errors.messages if errors else {},
    }
    return render(request, "pages/communities/manage/conduct.html", context, status_code=422 if errors else 200)


@router.get("/communities/{community_id}/manage/conduct")
async def conduct(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await staff_frame(api, community_id)
    current = frame.community.get("code_of_conduct")
    await conduct_archive(request).remember(frame.id, current)
    return _form(request, frame, str(current["text"]) if current else "")


@router.post("/communities/{community_id}/manage/conduct")
async def publish(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await staff_frame(api, community_id)
    # Keep the version being replaced, so members can be shown what changed.
    await conduct_archive(request).remember(frame.id, frame.community.get("code_of_conduct"))
    form = await request.form()
    errors = FormErrors()
    raw = str(form.get("text", ""))
    text = errors.check("text", clean_text, raw, label=_("Code of conduct"), max_length=20_000, required=True)
    if errors:
        return _form(request, frame, raw, errors)
    try:
        published = await api.put(f"/v1/communities/{frame.id}/code-of-conduct", {"text": text})
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        return _form(request, frame, raw, FormErrors.from_api(error, {"text": "text"}))
    await conduct_archive(request).remember(frame.id, published)
    return flash.redirect(
        request,
        f"/communities/{frame.id}/manage/conduct",
        _("Version %(v)s of the code of conduct is published. Members are asked to accept it.", v=published["version"]),
    )
