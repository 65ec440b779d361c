"""`/invitations/{token}`: where an invitation link lands; accepting it makes you a member.

The page asks the API what the invitation offers (its invitee only) and names the community,
its purpose and its code of conduct; every spent, expired, withdrawn, unknown or someone
else's invitation gets the same message, which says nothing about the community.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.rendering import render

router = APIRouter()
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,200}\Z")
_VERSION = re.compile(r"must be (\d+)")


def _page(request: Request, token: str, **context: Any) -> Response:
    status_code = int(context.pop("status_code", 200))
    base = {"token": token, "unusable": False, "conduct_version": None, "preview": None}
    return render(request, "pages/communities/invitation.html", {**base, **context}, status_code=status_code)


async def _preview(api: Api, token: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = await api.get(f"/v1/invitations/{token}")
    except ApiError as error:
        if error.status in (403, 404, 410):
            return None
        raise
    return found


@router.get("/invitations/{token}", name="invitation")
async def invitation(request: Request, person: Person, api: Api, token: str) -> Response:
    preview = await _preview(api, token) if _TOKEN.match(token) else None
    if preview is None:
        return _page(request, "", unusable=True, status_code=404)
    conduct = preview.get("code_of_conduct")
    return _page(request, token, preview=preview, conduct_version=conduct["version"] if conduct else None)


async def _community_ids(api: Api) -> set[str]:
    me = await api.get("/v1/me")
    return {str(c["id"]) for c in me.get("communities", [])}


@router.post("/invitations/{token}")
async def accept(request: Request, person: Person, api: Api, token: str) -> Response:
    if not _TOKEN.match(token):
        return _page(request, "", unusable=True, status_code=404)
    form = await request.form()
    version_text = str(form.get("accept_conduct", ""))
    body = {"accept_code_of_conduct_version": int(version_text)} if version_text.isdigit() else {}
    before = await _community_ids(api)
    try:
        await api.post(f"/v1/invitations/{token}/accept", body)
    except ApiError as error:
        if error.status == 422 and "accept_code_of_conduct_version" in error.fields:
            # The community has a code of conduct: the API names the version to accept.
            found = _VERSION.search(error.fields["accept_code_of_conduct_version"])
            errors = FormErrors()
            if form.get("conduct_shown") == "1":
                errors.add("accept_conduct", _("Tick the box to accept the code of conduct before you join."))
            return _page(
                request,
                token,
                preview=await _preview(api, token),
                conduct_version=int(found.group(1)) if found else None,
                errors=errors.messages,
                status_code=422 if errors else 200,
            )
        if error.status in (403, 404, 410):
            return _page(request, token, unusable=True, status_code=404)
        raise
    joined = (await _community_ids(api)) - before
    target = f"/communities/{next(iter(joined))}" if len(joined) == 1 else "/"
    return flash.redirect(request, target, _("Welcome: you have accepted the invitation."))
