"""`/communities/{id}/manage/invitations`: invite someone by email; the link is shown once.

The API keeps only a hash of each token and has no list of invitations, so the page shows
the new link right after it is made (with a withdraw button), and nothing later.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FieldError, FormErrors, clean_email
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.ids import CommunityIdPath, checked_id
from weft_web.pages.communities.manage.access import manage_context, manage_path, staff_frame
from weft_web.pages.community_frame import CommunityFrame
from weft_web.rendering import render

router = APIRouter()
TEMPLATE = "pages/communities/manage/invitations.html"


def _page(request: Request, frame: CommunityFrame, **context: object) -> Response:
    status_code = int(str(context.pop("status_code", 200)))
    base = {**manage_context(frame, "invitations"), "created": None, "values": {"days": "14"}, "errors": {}}
    return render(request, TEMPLATE, {**base, **context}, status_code=status_code)


@router.get("/communities/{community_id}/manage/invitations")
async def invitations(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    return _page(request, await staff_frame(api, community_id))


def _days(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 30:
        raise FieldError(_("Enter a number of days from 1 to 30."))
    return int(value)


@router.post("/communities/{community_id}/manage/invitations")
async def invite(request: Request, person: Person, api: Api, community_id: CommunityIdPath) -> Response:
    frame = await staff_frame(api, community_id)
    form = await request.form()
    values = {"email": str(form.get("email", "")), "days": str(form.get("days", ""))}
    errors = FormErrors()
    email = errors.check("email", clean_email, values["email"])
    days = errors.check("days", _days, values["days"])
    if errors:
        return _page(request, frame, values=values, errors=errors.messages, status_code=422)
    try:
        created = await api.post(f"/v1/communities/{frame.id}/invitations", {"email": email, "expires_in_days": days})
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        refused = FormErrors.from_api(error, {"email": "email", "expires_in_days": "days"})
        return _page(request, frame, values=values, errors=refused.messages, status_code=422)
    link = str(request.base_url).rstrip("/") + f"/invitations/{created['token']}"
    return _page(request, frame, created={**created, "link": link, "email": email})


@router.post("/communities/{community_id}/manage/invitations/{invitation_id}/withdraw")
async def withdraw(
    request: Request, person: Person, api: Api, community_id: CommunityIdPath, invitation_id: str
) -> Response:
    frame = await staff_frame(api, community_id)
    try:
        await api.delete(f"/v1/communities/{frame.id}/invitations/{checked_id(invitation_id)}")
    except ApiError as error:
        if error.status not in (404, 409):
            raise
        return flash.redirect(request, manage_path(frame, "invitations"), error.detail, level="error")
    return flash.redirect(request, manage_path(frame, "invitations"), _("The invitation is withdrawn."))
