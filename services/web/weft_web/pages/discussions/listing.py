"""`/communities/{id}/discussions`: the community's threads, and starting one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_line, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import CommunityFrame, community_frame
from weft_web.pages.discussions.kinds import STARTED_KINDS, template_helpers
from weft_web.rendering import render

router = APIRouter()

TITLE_MAX = 200
BODY_MAX = 20_000


@router.get("/communities/{community_id}/discussions", name="discussions")
async def discussions(
    request: Request, person: Person, api: Api, community_id: str, kind: str = "", cursor: str = ""
) -> Response:
    frame = await community_frame(api, community_id)
    shown_kind = kind if kind in STARTED_KINDS else ""
    members_only = False
    try:
        page = await api.get(f"/v1/communities/{frame.id}/threads", kind=shown_kind, cursor=cursor, limit=20)
    except ApiError as exc:
        if exc.status != 403:
            raise
        page, members_only = {"items": [], "next_cursor": None}, True  # not a member: the page says so
    return render(
        request,
        "pages/discussions.html",
        {
            **frame.context("discussions"),
            **template_helpers(),
            "threads": page["items"],
            "next_cursor": page.get("next_cursor"),
            "kind": shown_kind,
            "paged": bool(cursor),
            "members_only": members_only,
        },
    )


@router.get("/communities/{community_id}/discussions/new", name="new_thread")
async def new_thread(request: Request, person: Person, api: Api, community_id: str, kind: str = "") -> Response:
    frame = await community_frame(api, community_id)
    if not frame.is_member:
        return flash.redirect(request, f"/communities/{frame.id}", _("Join the community to start a discussion."))
    values = {"kind": kind if kind in _kinds_for(frame) else "discussion"}
    return _form(request, frame, values, FormErrors())


@router.post("/communities/{community_id}/discussions/new")
async def post_thread(request: Request, person: Person, api: Api, community_id: str) -> Response:
    frame = await community_frame(api, community_id)
    form = await request.form()
    values = {key: str(form.get(key, "")) for key in ("kind", "title", "body", "anonymous", "chatham_house")}
    errors = FormErrors()
    kind = values["kind"]
    if kind not in _kinds_for(frame):
        errors.add("kind", _("Choose a discussion or a question."))
    title = errors.check("title", clean_line, values["title"], label=_("Title"), max_length=TITLE_MAX)
    body = errors.check("body", clean_text, values["body"], label=_("Message"), max_length=BODY_MAX, required=True)
    anonymous = values["anonymous"] == "on"
    if anonymous and kind != "question":
        errors.add("anonymous", _("Only a question can be posted anonymously."))
    if errors:
        return _form(request, frame, values, errors, status_code=422)
    try:
        thread = await api.post(
            f"/v1/communities/{frame.id}/threads",
            {
                "kind": kind,
                "title": title,
                "body": body,
                "anonymous": anonymous,
                "chatham_house": values["chatham_house"] == "on",
            },
        )
    except ApiError as exc:
        if exc.status not in (403, 409, 422):
            raise
        refused = FormErrors.from_api(exc, {f: f for f in ("kind", "title", "body", "anonymous", "chatham_house")})
        return _form(request, frame, values, refused, status_code=422)
    return flash.redirect(request, f"/threads/{thread['id']}", _("Your post is up."))


def _kinds_for(frame: CommunityFrame) -> tuple[str, ...]:
    # Announcements tell every member: only owners and facilitators start them.
    return STARTED_KINDS if frame.is_staff else ("discussion", "question")


def _form(
    request: Request, frame: CommunityFrame, values: dict[str, str], errors: FormErrors, *, status_code: int = 200
) -> Response:
    return render(
        request,
        "pages/thread_new.html",
        {
            **frame.context("discussions"),
            **template_helpers(),
            "kinds": _kinds_for(frame),
            "values": values,
            "errors": errors.messages,
            "title_max": TITLE_MAX,
            "body_max": BODY_MAX,
        },
        status_code=status_code,
    )
