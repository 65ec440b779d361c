"""The rules of discussions, pure (no I/O): which kinds may be anonymous, who may
start an announcement or accept an answer, what of an author others are shown, what
a message may carry about a post (the safe-space guarantees), and quote excerpts.

Anonymity: the stored `author_id` is always kept (moderation needs it, and it decides
who may edit or accept), but nobody is shown it in a post's view (not even the
community's moderators, who ask the `/author` routes), and no message carries it.
"""

from __future__ import annotations

import re
from enum import StrEnum

from weft_resources.domain.documents import Doc
from weft_resources.domain.standing import Standing


class ThreadKind(StrEnum):
    DISCUSSION = "discussion"
    QUESTION = "question"
    ANNOUNCEMENT = "announcement"
    COMMENTS = "comments"  # a library item's comment thread; made by the service, never posted


# The kinds a person starts with POST /v1/communities/{id}/threads.
STARTED_KINDS = (ThreadKind.DISCUSSION, ThreadKind.QUESTION, ThreadKind.ANNOUNCEMENT)


class Reaction(StrEnum):
    THUMBS_UP = "thumbs_up"
    HEART = "heart"
    INSIGHTFUL = "insightful"
    THANKS = "thanks"


ANONYMOUS_LABEL = "Anonymous member"
REMOVED_LABEL = "removed by a moderator"
EXCERPT_CHARS = 160


def may_start_anonymously(kind: ThreadKind) -> bool:
    """The issue's safe space: "a member may post a question or reply anonymously"."""
    return kind is ThreadKind.QUESTION


def may_start(kind: ThreadKind, standing: Standing, community_id: str) -> bool:
    """Announcements tell every member: only the community's owners and facilitators start them."""
    return kind is not ThreadKind.ANNOUNCEMENT or standing.is_staff(community_id)


def may_accept_answer(thread: Doc, standing: Standing) -> bool:
    """The asker (the stored author, also when anonymous) or one of the community's moderators."""
    return thread["author_id"] == standing.user_id or standing.is_staff(thread["community_id"])


def may_see_history(post: Doc, standing: Standing) -> bool:
    """The author and the community's moderators; once a moderator removed the post, the
    moderators only (its earlier words are kept for them, in the history and the log)."""
    if standing.is_staff(post["community_id"]):
        return True
    removed = (post.get("moderation") or {}).get("state") == "removed"
    return post["author_id"] == standing.user_id and not removed


def shown_author(post: Doc) -> str | None:
    """The author id a view shows: none for an anonymous post (to anyone)."""
    return None if post.get("anonymous") else str(post["author_id"])


def named_on_bus(post: Doc, thread: Doc) -> str | None:
    """The author a message may name: never an anonymous one, nobody in a Chatham House thread."""
    if post.get("anonymous") or thread.get("chatham_house"):
        return None
    return str(post["author_id"])


def actor_on_bus(actor_id: str, thread: Doc) -> str | None:
    """Who a message may say acted (edited, accepted): not the anonymous author of the
    thread (naming them would undo the anonymity), nobody in a Chatham House thread."""
    if thread.get("chatham_house"):
        return None
    if thread.get("anonymous") and thread["author_id"] == actor_id:
        return None
    return actor_id


def moderation_state(doc: Doc) -> str:
    return str((doc.get("moderation") or {}).get("state", "visible"))


def excerpt(markdown: str, limit: int = EXCERPT_CHARS) -> str:
    """A short plain-text excerpt of a post, for a reply that quotes it (the Markdown's
    punctuation is left as typed: the excerpt is text, rendered as text by clients)."""
    flat = re.sub(r"\s+", " ", markdown).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"
