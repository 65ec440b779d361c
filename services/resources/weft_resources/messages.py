"""What the resources service publishes: the message types (declared for the AsyncAPI
document; publishing goes through the outbox) and the facts they carry, built from
stored documents (DOCUMENTS.md)."""

from __future__ import annotations

from faststream.nats import NatsBroker

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
