"""What the notifications service publishes: the message types (declared for the
AsyncAPI document; publishing goes through the outbox)."""

from __future__ import annotations

from faststream.nats import NatsBroker
from pydantic import create_model

from weft_shared.contracts import notifications as contracts
from weft_shared.contracts.base import MESSAGE_TYPES
from weft_shared.contracts.envelope import Envelope
from weft_shared.settings import PlatformSettings

PUBLISHED = [t for _, t in sorted(MESSAGE_TYPES.items()) if t.__module__ == contracts.__name__]


def document_messages(broker: NatsBroker, platform: PlatformSettings) -> None:
    for payload_type in PUBLISHED:
        model = create_model(payload_type.__name__ + "Message", __base__=Envelope, data=(payload_type, ...))
        broker.publisher(
            f"{platform.subject_prefix}.{payload_type.subject_tokens()}.{{community_id}}",
            title=payload_type.message_type,
            description=payload_type.description,
            schema=model,
        )
