"""`/communities/{id}/moderation`: the queue of reported content, the actions, and the log.

Owners and facilitators only; anyone else gets the same 404 page as for a community that
does not exist (the API's 403 would tell them the page is there).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.errors import not_found, safe_next
from weft_web.forms import FormErrors, clean_line
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import CommunityFrame, community_frame
from weft_web.pages.discussions.author_names import names_for
from weft_web.pages.discussions.kinds import template_helpers
from weft_web.rendering import render

router = APIRouter()

ACTIONS = ("hide", "unhide", "lock", "unlock", "remove", "dismiss")
REASON_MAX = 500


async def staff_frame(api: Api, community_id: str) -> CommunityFrame | None:
    frame = await community_frame(api, community_id)
    return frame if frame.is_staff else None


@router.get("/communities/{community_id}/moderation", name="moderation")
async def queue(request: Request, person: Person, api: Api, community_id: str, cursor: str = "") -> Response:
    frame = await staff_frame(api, community_id)
    if frame is None:
        return not_found(request)
    return await _queue_page(request, api, frame, cursor, {}, {})


async def _queue_page(
    request: Request,
    api: Api,
    frame: CommunityFrame,
    cursor: str,
    errors: dict[str, dict[str, str]],
    values: dict[str, dict[str, str]],
    *,
    status_code: int = 200,
) -> Response:
    page = await api.get(f"/v1/communities/{frame.id}/moderation/queue", cursor=cursor, limit=20)
    entries: list[dict[str, Any]] = page["items"]
    reporters = [report["reporter_id"] for entry in entries for report in entry["reports"]]
    names = await names_for(api, frame.id, reporters)
    return render(
        request,
        "pages/moderation.html",
        {
            **frame.context("moderation"),
            **template_helpers(),
            "entries": entries,
            "names": names,
            "next_cursor": page.get("next_cursor"),
            "paged": bool(cursor),
            "entry_errors": errors,
            "entry_values": values,
            "reason_max": REASON_MAX,
        },
        status_code=status_code,
    )


@router.post("/communities/{community_id}/moderation/actions")
async def act(request: Request, person: Person, api: Api, community_id: str) -> Response:
    frame = await staff_frame(api, community_id)
    if frame is None:
        return not_found(request)
    form = await request.form()
    kind, content_id, action = (str(form.get(key, "")) for key in ("kind", "id", "action"))
    back = safe_next(str(form.get("back", ""))) if form.get("back") else f"/communities/{frame.id}/moderation"
    if kind not in ("thread", "reply", "resource") or action not in ACTIONS or not content_id:
        return not_found(request)
    errors = FormErrors()
    reason = errors.check("reason", clean_line, str(form.get("reason", "")), label=_("Reason"), max_length=REASON_MAX,
                          required=action == "remove")  # fmt: skip
    if action == "remove" and errors:
        errors.messages["reason"] = _("Say why you are removing it: the reason is kept in the log.")
    if not errors:
        body: dict[str, Any] = {"content": {"kind": kind, "id": content_id}, "action": action}
        if reason:
            body["reason"] = reason
        try:
            await api.post("/v1/moderation/actions", body)
        except ApiError as exc:
            if exc.status == 409:  # already done (by another moderator, say): say so, change nothing
                return flash.redirect(request, back, exc.detail, level="error")
            if exc.status != 422:
                raise
            errors = FormErrors.from_api(exc, {"reason": "reason"})
        else:
            return flash.redirect(request, back, _done(action))
    entry_values = {content_id: {"reason": str(form.get("reason", "")), "action": action}}
    return await _queue_page(request, api, frame, "", {content_id: errors.messages}, entry_values, status_code=422)


def _done(action: str) -> str:
    messages = {
        "hide": _("Hidden: only moderators see it now."),
        "unhide": _("It is shown again."),
        "lock": _("Locked: the thread takes no new replies."),
        "unlock": _("Unlocked: members can reply again."),
        "remove": _("Removed. What it said is kept in the moderation log."),
        "dismiss": _("The reports are dismissed."),
    }
    return messages[action]


@router.get("/communities/{community_id}/moderation/log", name="moderation_log")
async def log(request: Request, person: Person, api: Api, community_id: str, cursor: str = "") -> Response:
    frame = await staff_frame(api, community_id)
    if frame is None:
        return not_found(request)
    page = await api.get(f"/v1/communities/{frame.id}/moderation/log", cursor=cursor, limit=50)
    names = await names_for(api, frame.id, [entry["moderator_id"] for entry in page["items"]])
    return render(
        request,
        "pages/moderation_log.html",
        {
            **frame.context("moderation"),
            **template_helpers(),
            "entries": page["items"],
            "names": names,
            "next_cursor": page.get("next_cursor"),
            "paged": bool(cursor),
        },
    )
