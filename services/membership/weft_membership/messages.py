"""The messages membership publishes, declared on the broker for the AsyncAPI document.

Publishing itself goes through the outbox relay; these declarations only describe
subjects and payloads (CloudEvents envelope with the typed `data`).
"""

from __future__ import annotations

from faststream.nats import NatsBroker
from pydantic import create_model

from weft_shared.contracts import membership as contracts
from weft_shared.contracts.base import MESSAGE_TYPES
from weft_shared.contracts.envelope import Envelope
from weft_shared.settings import PlatformSettings

PUBLISHED = [t for name, t in sorted(MESSAGE_TYPES.items()) if t.__module__ == contracts.__name__]


def document_messages(broker: NatsBroker, platform: PlatformSettings) -> None:
    for payload_type in PUBLISHED:
        message_model = create_model(payload_type.__name__ + "Message", __base__=Envelope, data=(payload_type, ...))
        scope = "network" if payload_type is contracts.ProfileUpdated else "{community_id}"
        broker.publisher(
            f"{platform.subject_prefix}.{payload_type.subject_tokens()}.{scope}",
            title=payload_type.message_type,
            description=payload_type.description,
            schema=message_model,
        )
