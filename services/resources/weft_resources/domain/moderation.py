"""Moderation's rules: what can be reported and why, and the guarded transitions of a
piece of content's moderation state. Pure: no I/O.

A thread, a reply or a library item is `visible`, `hidden` (only its community's owners
and facilitators see it; reversible) or `removed` (final; for everyone but those
moderators it is gone, but a removed reply keeps its place in its thread, shown as
removed by a moderator). Removing a thread or a reply replaces its words with
`REMOVED_TEXT`, so they are served from nowhere; the moderation log keeps them for
audit. A thread is also `locked` or not (no new replies while locked).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from weft_resources.domain.documents import Doc
from weft_shared.errors import Conflict, Problem


class ContentKind(StrEnum):
    THREAD = "thread"
    REPLY = "reply"
    RESOURCE = "resource"


class ReportReason(StrEnum):
    HARASSMENT = "harassment"
    MISINFORMATION = "misinformation"
    PERSONAL_DATA = "personal_data"
    SPAM = "spam"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ModerationAction(StrEnum):
    HIDE = "hide"
    UNHIDE = "unhide"
    REMOVE = "remove"
    LOCK = "lock"
    UNLOCK = "unlock"
    DISMISS = "dismiss"  # close the open reports, change nothing else


VISIBLE, HIDDEN, REMOVED = "visible", "hidden", "removed"
REMOVED_TEXT = "Removed by a moderator."

# What removal replaces in a thread's or reply's document (a removed item is kept as it was, out of sight).
REDACTED_FIELDS: dict[ContentKind, tuple[str, ...]] = {
    ContentKind.THREAD: ("title", "body_markdown", "body_html"),
    ContentKind.REPLY: ("body_markdown", "body_html"),
    ContentKind.RESOURCE: (),
}
# What the log keeps of removed content, for audit.
AUDIT_FIELDS: dict[ContentKind, tuple[str, ...]] = {
    ContentKind.THREAD: ("title", "body_markdown"),
    ContentKind.REPLY: ("body_markdown",),
    ContentKind.RESOURCE: ("title", "summary", "url", "note_markdown"),
}


def case_key(kind: ContentKind, content_id: str) -> str:
    """One content's key in the queue (all its reports, whoever reported them)."""
    return f"{kind.value}:{content_id}"


def state_of(doc: Doc) -> str:
    return str((doc.get("moderation") or {}).get("state", VISIBLE))


def is_removed(doc: Doc) -> bool:
    return state_of(doc) == REMOVED


def next_state(kind: ContentKind, doc: Doc, action: ModerationAction) -> str | None:
    """The moderation state after `action`, or None when the action leaves it alone
    (lock, unlock, dismiss). Refuses a move from a state it does not start from, so a
    repeated action is a 409 and changes nothing."""
    state = state_of(doc)
    if action is ModerationAction.DISMISS:
        return None
    if action in (ModerationAction.LOCK, ModerationAction.UNLOCK):
        if kind is not ContentKind.THREAD:  # a request that can never apply: bad input, not a state
            raise Problem(
                "only a thread can be locked or unlocked",
                status=422,
                errors=[{"field": "action", "message": f"{action.value} applies to threads, not to a {kind.value}"}],
            )
        if state == REMOVED:
            raise Conflict("this thread was removed by a moderator")
        locked = bool(doc.get("locked"))
        if locked == (action is ModerationAction.LOCK):
            raise Conflict(f"this thread is already {'locked' if locked else 'unlocked'}")
        return None
    if state == REMOVED:
        raise Conflict("this content was removed by a moderator; removal is final")
    if action is ModerationAction.HIDE:
        if state == HIDDEN:
            raise Conflict("this content is already hidden")
        return HIDDEN
    if action is ModerationAction.UNHIDE:
        if state != HIDDEN:
            raise Conflict("this content is not hidden")
        return VISIBLE
    return REMOVED


def audit_copy(kind: ContentKind, doc: Doc) -> dict[str, Any]:
    """What the log entry of a removal keeps of the content's words."""
    return {name: doc[name] for name in AUDIT_FIELDS[kind] if doc.get(name) is not None}


def redacted_text(kind: ContentKind) -> dict[str, Any]:
    """What a removed thread or reply shows in place of its words."""
    fields: dict[str, Any] = {}
    for name in REDACTED_FIELDS[kind]:
        fields[name] = f"<p>{REMOVED_TEXT}</p>\n" if name.endswith("_html") else REMOVED_TEXT
    return fields


def preview(kind: ContentKind, doc: Doc, length: int = 200) -> str:
    """A line for the moderators' queue: the title, or the start of a reply."""
    text = doc.get("title") if kind is not ContentKind.REPLY else doc.get("body_markdown")
    text = " ".join(str(text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"
