"""CloudEvents 1.0 structured-mode envelope for every bus message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pydantic import BaseModel, ConfigDict, Field

from weft_shared.contracts.base import MessagePayload

CONTENT_TYPE = "application/cloudevents+json"


class Envelope(BaseModel):
    """A CloudEvent. `communityid` is a CloudEvents extension attribute (lowercase
    alphanumerics only, per the spec) so routers can filter without parsing data.
    `aggregate` and `aggregateversion` are set by the outbox when the message commits."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: str
    source: str
    type: str
    time: datetime
    subject: str | None = None
    datacontenttype: str = "application/json"
    communityid: str | None = None
    # Extension attributes: what the message is about and that thing's message
    # version (1, 2, ... in commit order), so a consumer can drop a stale one.
    aggregate: str | None = None
    aggregateversion: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


def new_message_id() -> str:
    # ObjectIds sort by creation time, which makes stream inspection easier.
    return str(ObjectId())


def wrap(
    payload: MessagePayload,
    *,
    source: str,
    subject: str | None,
    community_id: str | None,
    message_id: str | None = None,
) -> Envelope:
    return Envelope(
        id=message_id or new_message_id(),
        source=source,
        type=payload.message_type,
        time=datetime.now(UTC),
        subject=subject,
        communityid=community_id,
        data=payload.model_dump(mode="json"),
    )
