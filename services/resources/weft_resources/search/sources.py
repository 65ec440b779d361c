"""From stored documents (DOCUMENTS.md) to what the index holds about them. Pure.

What is not searchable at all gives None: content a moderator hid or removed,
and a comment thread (or reply) whose library item is not searchable. A draft is
searchable by its audience (its creator and the community's staff). Nothing here
reads an author: anonymous posts carry none into the index."""

from __future__ import annotations

from dataclasses import dataclass

from weft_resources.domain.documents import Doc
from weft_resources.search import audience
from weft_resources.search.documents import SearchDocument


def moderated(doc: Doc) -> bool:
    return bool((doc.get("moderation") or {}).get("state", "visible") != "visible")


def resource_text(item: Doc) -> str:
    """What an item's body is searched by: its summary, a note's text, a file's extracted text."""
    # `file_text` is the current version's extracted text, joined in by the feed (SearchFeed.with_file_text).
    parts = [item.get("summary") or "", item.get("note_markdown") or "", item.get("file_text") or ""]
    return "\n\n".join(p for p in parts if p)


def resource_document(item: Doc) -> SearchDocument | None:
    if moderated(item):
        return None
    return SearchDocument(
        doc_type="resource",
        id=str(item["_id"]),
        community_id=item["community_id"],
        kind=item["kind"],
        title=item.get("title", ""),
        label=item.get("title", ""),
        body=resource_text(item),
        tags=tuple(item.get("tags", [])),
        state=item.get("status", "published"),
        audience=resource_audience(item),
    )


def resource_audience(item: Doc) -> frozenset[str]:
    return audience.resource_audience(
        community_id=item["community_id"],
        visibility=item.get("visibility", "community"),
        status=item.get("status", "published"),
        created_by=item.get("created_by"),
        shared_with=item.get("shared_with", []),
    )


@dataclass(frozen=True, slots=True)
class ThreadContext:
    """What a thread and its replies are indexed with."""

    audience: frozenset[str]
    state: str
    title: str  # a comment thread's is its item's current title (the thread keeps the one it began with)


def thread_context(thread: Doc, item: Doc | None) -> ThreadContext | None:
    """The audience, state and title a thread and its replies are indexed with (None: not
    searchable). A comment thread follows its library item."""
    if moderated(thread):
        return None
    if thread.get("kind") == "comments":
        if item is None or moderated(item):
            return None
        return ThreadContext(resource_audience(item), item.get("status", "published"), item.get("title", ""))
    chatham = bool(thread.get("chatham_house"))
    tokens = audience.thread_audience(community_id=thread["community_id"], chatham_house=chatham)
    return ThreadContext(tokens, "published", thread.get("title", ""))


def thread_document(thread: Doc, context: ThreadContext) -> SearchDocument:
    return SearchDocument(
        doc_type="thread",
        id=str(thread["_id"]),
        community_id=thread["community_id"],
        kind=thread["kind"],
        title=context.title,
        label=context.title,
        body=thread.get("body_markdown", ""),
        state=context.state,
        thread_id=str(thread["_id"]),
        resource_id=thread.get("resource_id"),
        audience=context.audience,
    )


def reply_document(reply: Doc, thread: Doc, context: ThreadContext) -> SearchDocument | None:
    if moderated(reply):
        return None
    return SearchDocument(
        doc_type="reply",
        id=str(reply["_id"]),
        community_id=thread["community_id"],
        kind="reply",
        title="",
        label=context.title,
        body=reply.get("body_markdown", ""),
        state=context.state,
        thread_id=str(thread["_id"]),
        resource_id=thread.get("resource_id"),
        audience=context.audience,
    )
