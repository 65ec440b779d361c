"""What a thread page shows: the thread, a page of its replies, authors' names, the viewer's rights."""

from __future__ import annotations

from typing import Any

from weft_web.gateway import Api, ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import CommunityFrame, community_frame
from weft_web.pages.discussions.author_names import names_for
from weft_web.pages.discussions.kinds import template_helpers

REPLIES_PER_PAGE = 100
COMMENTS_PREFIX = "comments-"


async def read_thread(api: Api, thread_id: str) -> dict[str, Any]:
    """The thread; someone it is not shown to gets the 404 of an unknown id (the API may say 403).

    A library item's comment thread (`comments-<resource id>`) is made on its first read
    through the item, so a link to it works before anyone has commented.
    """
    try:
        return await _read(api, f"/v1/threads/{thread_id}")
    except ApiError as exc:
        if exc.status != 404 or not thread_id.startswith(COMMENTS_PREFIX):
            raise
    return await _read(api, f"/v1/resources/{thread_id.removeprefix(COMMENTS_PREFIX)}/comments")


async def read_reply(api: Api, reply_id: str) -> dict[str, Any]:
    return await _read(api, f"/v1/replies/{reply_id}")


async def _read(api: Api, path: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = await api.get(path)
    except ApiError as exc:
        if exc.status == 403:
            raise ApiError(404, "not found") from exc
        raise
    return found


async def frame_or_none(api: Api, community_id: str) -> CommunityFrame | None:
    """The community header, when the viewer may see the community (a partner reader may not)."""
    try:
        return await community_frame(api, community_id)
    except ApiError as exc:
        if exc.status in (403, 404):
            return None
        raise


def author_name(post: dict[str, Any], names: dict[str, str]) -> str:
    if post.get("moderation_state") == "removed" and post.get("body_html") is None:
        return _("Removed by a moderator")
    if post.get("anonymous"):
        label = _("Anonymous member")
        return _("%(label)s (you)", label=label) if post.get("mine") else label
    name = names.get(str(post.get("author_id")), _("A member"))
    return _("%(name)s (you)", name=name) if post.get("mine") else name


async def thread_context(api: Api, thread_id: str, *, cursor: str = "", quote: str = "") -> dict[str, Any]:
    """Template variables for `pages/thread.html` (an ApiError 404 when the thread is not the viewer's to see)."""
    thread = await read_thread(api, thread_id)
    replies_page = await api.get(f"/v1/threads/{thread['id']}/replies", cursor=cursor, limit=REPLIES_PER_PAGE)
    replies: list[dict[str, Any]] = replies_page["items"]
    frame = await frame_or_none(api, thread["community_id"])
    accepted = None
    if thread.get("accepted_reply_id"):
        accepted = next((r for r in replies if r["id"] == thread["accepted_reply_id"]), None)
        if accepted is None:
            accepted = await _reply_or_none(api, thread["accepted_reply_id"])
    quoted = None
    if quote:
        quoted = next((r for r in replies if r["id"] == quote), None) or await _reply_or_none(api, quote)
        if quoted is not None and quoted.get("thread_id") != thread["id"]:
            quoted = None
    authors = [thread.get("author_id")] + [r.get("author_id") for r in replies]
    authors += [r["quotes"].get("author_id") for r in replies if r.get("quotes")]
    authors += [p.get("author_id") for p in (accepted, quoted) if p]
    names = await names_for(api, thread["community_id"], authors)
    is_staff = bool(frame and frame.is_staff)
    is_member = bool(frame and frame.is_member)
    return {
        **(frame.context("discussions") if frame else {"frame": None, "section": "communities"}),
        **template_helpers(),
        "thread": thread,
        "replies": replies,
        "next_cursor": replies_page.get("next_cursor"),
        "paged": bool(cursor),
        "accepted": accepted,
        "quoted": quoted,
        "names": names,
        "author_name": author_name,
        "is_staff": is_staff,
        "is_member": is_member,
        "may_accept": thread["kind"] == "question" and (thread.get("mine") or is_staff),
        "may_reply": is_member and not thread.get("locked") and thread.get("moderation_state") == "visible",
    }


async def _reply_or_none(api: Api, reply_id: str) -> dict[str, Any] | None:
    try:
        reply: dict[str, Any] = await api.get(f"/v1/replies/{reply_id}")
    except ApiError as exc:
        if exc.status in (403, 404, 422):
            return None
        raise
    return reply
