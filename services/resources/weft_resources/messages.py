"""What the resources service publishes: the message types (declared for the AsyncAPI
document; publishing goes through the outbox) and the facts they carry, built from
stored documents (DOCUMENTS.md)."""

from __future__ import annotations

from faststream.nats import NatsBroker

from weft_shared.contracts import resources as contracts
from weft_shared.messaging.declarations import declare_messages, published_in
from weft_shared.settings import PlatformSettings

PUBLISHED = published_in(contracts)


def document_messages(broker: NatsBroker, platform: PlatformSettings) -> None:
    declare_messages(broker, platform, PUBLISHED)
