"""`/communities/{id}/manage/edit`: change the community's details."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.community_form import (
    API_FIELDS,
    form_values,
    join_policy_options,
    read_community_form,
    visibility_options,
)
from weft_web.pages.communities.ids import CommunityIdPath
from weft_web.pages.communities.manage.access import manage_context, staff_frame
from weft_web.pages.community_frame import CommunityFrame
from weft_web.rendering import render

router = APIRouter()


def _form(
    request: Request, frame: CommunityFrame, values: dict[str, str], errors: FormErrors | None = None
) -> Response:
    context = {
        **manage_context(frame, "edit"),
        "values": values,
        "errors": errors.messages if errors else {},
        "visibilities": visibility_options(),
        "join_policies": join_policy_options(),
    }
    return render(request, "pages/communities/manage/edit.html", context, status_code=422 if errors else 200)


@router.get("/communities/{community_id}/manage/edit")
async def edit(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await staff_frame(api, community_id)
    return _form(request, frame, form_values(frame.community))


@router.post("/communities/{community_id}/manage/edit")
async def save(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await staff_frame(api, community_id)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    body, errors = read_community_form(form, creating=False)
    if errors:
        return _form(request, frame, values, errors)
    try:
        await api.patch(f"/v1/communities/{frame.id}", body)
    except ApiError as error:
        if error.status not in (403, 409, 422):
            raise
        return _form(request, frame, values, FormErrors.from_api(error, API_FIELDS))
    return flash.redirect(request, f"/communities/{frame.id}", _("The details of the community are saved."))
