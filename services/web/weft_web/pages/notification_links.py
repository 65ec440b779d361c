"""Where a notification points in the web app, from the ids the API gives (`target`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

_INVITATION_PREFIX = "/v1/invitations/"


def _part(value: str) -> str:
    return quote(value, safe="")


def link_for(kind: str, target: Mapping[str, str]) -> str:
    """The most specific page: a thread, a resource, an event, an invitation, the join requests
    queue (for those who decide), else the community."""
    if "thread_id" in target:
        return f"/threads/{_part(target['thread_id'])}"
    if "resource_id" in target:
        return f"/resources/{_part(target['resource_id'])}"
    if "event_id" in target:
        return f"/events/{_part(target['event_id'])}"
    accept_path = target.get("accept_path", "")
    if accept_path.startswith(_INVITATION_PREFIX):
        token = accept_path.removeprefix(_INVITATION_PREFIX).split("/", 1)[0]
        return f"/invitations/{_part(token)}"
    if "export_id" in target:  # a personal-data export: where it can be downloaded
        return "/me/data"
    if kind == "join_requested" and "community_id" in target:
        return f"/communities/{_part(target['community_id'])}/manage"
    if "community_id" in target:
        return f"/communities/{_part(target['community_id'])}"
    return "/notifications"


def readable_time(value: str | None) -> str:
    """ "1 Dec 2026, 20:35 UTC" from the API's ISO 8601 time (the raw text if it is not one)."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{moment.day} {moment:%b %Y, %H:%M} {moment.tzname() or ''}".strip()
