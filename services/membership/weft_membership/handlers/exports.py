"""Export messages: each service's part arriving (membership assembles the archive)."""

from __future__ import annotations

from weft_membership.usecases import exports
from weft_membership.usecases.exports import ExportsContext
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.privacy_export import ExportPartReady
from weft_shared.messaging.consumer import Delivery, MessageDispatcher


def register(dispatcher: MessageDispatcher, ctx: ExportsContext) -> None:
    async def part_ready(_envelope: Envelope, message: ExportPartReady, _delivery: Delivery) -> None:
        await exports.part_ready(ctx, message)

    dispatcher.on(ExportPartReady)(part_ready)
