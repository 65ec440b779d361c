"""Messages the notifications service publishes (few: it mostly consumes)."""

from __future__ import annotations

from typing import Literal

from weft_shared.contracts.base import MessagePayload, message

WebhookDisabledReason = Literal["gone", "failing"]


@message(
    "org.weft.webhook.disabled.v1",
    "A webhook subscription was turned off: its endpoint answered 410 Gone (`gone`), or every delivery "
    "to it failed for days (`failing`). Scope: its community, or `network` for a network subscription.",
)
class WebhookDisabled(MessagePayload):
    webhook_id: str
    community_id: str | None
    url: str
    reason: WebhookDisabledReason
    failing_since: str | None = None
