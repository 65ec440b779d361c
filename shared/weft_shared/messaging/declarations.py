"""Declaring what a service publishes on the broker, for the AsyncAPI document.

Publishing itself goes through the outbox relay; a declaration only describes a
subject and its payload (the CloudEvents envelope with the typed `data`).
"""

from __future__ import annotations

from collections.abc import Collection
from types import ModuleType

from faststream.nats import NatsBroker
from pydantic import create_model

from weft_shared.contracts.base import MESSAGE_TYPES, MessagePayload
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.subjects import NETWORK_SCOPE
from weft_shared.settings import PlatformSettings


def published_in(contracts: ModuleType) -> list[type[MessagePayload]]:
    """The message types a contracts module defines, in type-name order."""
    return [t for _, t in sorted(MESSAGE_TYPES.items()) if t.__module__ == contracts.__name__]


def declare_messages(
    broker: NatsBroker,
    platform: PlatformSettings,
    payload_types: Collection[type[MessagePayload]],
    *,
    network_scoped: Collection[type[MessagePayload]] = (),
) -> None:
    """One publisher per type, on `<prefix>.<entity>.<action>.<version>.{community_id}`
    (or `.network` for the types about no single community)."""
    for payload_type in payload_types:
        model = create_model(payload_type.__name__ + "Message", __base__=Envelope, data=(payload_type, ...))
        scope = NETWORK_SCOPE if payload_type in network_scoped else "{community_id}"
        broker.publisher(
            f"{platform.subject_prefix}.{payload_type.subject_tokens()}.{scope}",
            title=payload_type.message_type,
            description=payload_type.description,
            schema=model,
        )
