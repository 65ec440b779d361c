"""What the resources service publishes: the message types (declared for the AsyncAPI
document; publishing goes through the outbox) and the facts they carry, built from
stored documents (DOCUMENTS.md)."""

from __future__ import annotations

from faststream.nats import NatsBroker

from weft_resources.domain.discussions import named_on_bus
from weft_resources.domain.documents import Doc
from weft_shared.contracts import resources as contracts
from weft_shared.contracts.resources import FileFacts, ResourceSnapshot
from weft_shared.messaging.declarations import declare_messages, published_in
from weft_shared.settings import PlatformSettings

PUBLISHED = published_in(contracts)


def document_messages(broker: NatsBroker, platform: PlatformSettings) -> None:
    declare_messages(broker, platform, PUBLISHED)


def resource_snapshot(item: Doc) -> ResourceSnapshot:
    """The item as the bus sees it. Fields are picked one by one, never copied wholesale,
    so a note's text (or anything added to the document later) never reaches a message."""
    file = item.get("file")
    return ResourceSnapshot(
        id=str(item["_id"]),
        community_id=item["community_id"],
        kind=item["kind"],
        title=item["title"],
        summary=item.get("summary", ""),
        tags=list(item.get("tags", [])),
        authors=list(item.get("authors", [])),
        licence=item.get("licence"),
        source=item.get("source"),
        visibility=item["visibility"],
        status=item["status"],
        endorsed=bool(item.get("endorsed")),
        review_by=item.get("review_by"),
        version=int(item.get("version", 1)),
        url=item.get("url"),
        file=FileFacts(
            filename=file["filename"], content_type=file["content_type"], size=file["size"], sha256=file["sha256"]
        )
        if file
        else None,
        shared_with=list(item.get("shared_with", [])),
        created_by=item["created_by"],
    )


def thread_facts(thread: Doc) -> contracts.ThreadFacts:
    """A thread as the bus may see it: a Chatham House thread by id and title only, and
    never the author of an anonymous one (domain/discussions.py, the safe space)."""
    facts = contracts.ThreadFacts(
        id=thread["_id"],
        community_id=thread["community_id"],
        kind=thread["kind"],
        title=thread["title"],
        chatham_house=bool(thread.get("chatham_house")),
    )
    if thread.get("chatham_house"):
        return facts
    facts.anonymous = bool(thread.get("anonymous"))
    facts.author_id = named_on_bus(thread, thread)
    facts.resource_id = thread.get("resource_id")
    return facts


def reply_facts(reply: Doc, thread: Doc) -> contracts.ReplyFacts:
    return contracts.ReplyFacts(
        id=reply["_id"],
        thread_id=reply["thread_id"],
        community_id=reply["community_id"],
        anonymous=bool(reply.get("anonymous")),
        author_id=named_on_bus(reply, thread),
        quotes_reply_id=reply.get("quotes_reply_id"),
    )
