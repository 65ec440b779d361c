"""Request and response bodies of the webhook API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from weft_shared.service.models import Flag, Strict
from weft_shared.service.text import MultiLine, OneLine

# Length is checked by the address policy (2,048, with a message that says so); this bounds the input.
WebhookUrl = Annotated[str, OneLine(min_length=1, max_length=2048)]
Pattern = Annotated[str, OneLine(min_length=1, max_length=200, pattern=r"^[a-z0-9_.*]+$")]
Patterns = Annotated[list[Pattern], Field(min_length=1, max_length=50)]
Description = Annotated[str, MultiLine(max_length=1000)]
DeliveryStatus = Literal["pending", "succeeded", "failed"]


class WebhookCreate(Strict):
    url: WebhookUrl
    # Message types, with `*` wildcards: `org.weft.member.*`, `org.weft.event.scheduled.v1`, `*`.
    types: Patterns
    description: Description = ""
    enabled: Flag = True


class WebhookChange(Strict):
    url: WebhookUrl | None = None
    types: Patterns | None = None
    description: Description | None = None
    enabled: Flag | None = None


class WebhookView(BaseModel):
    id: str
    community_id: str | None  # None: a network subscription
    url: str
    types: list[str]
    description: str
    enabled: bool
    # Why it was turned off by the service: `gone` (410) or `failing` (days of failures).
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime


class WebhookWithSecret(WebhookView):
    # Shown once: on create and on rotation. `whsec_` + base64; verify with any Standard Webhooks library.
    secret: str
    # Until then the previous secret signs too (a second signature in `webhook-signature`).
    previous_secret_valid_until: datetime | None = None


class WebhookPage(BaseModel):
    items: list[WebhookView]
    next_cursor: str | None


class DeliveryView(BaseModel):
    id: str
    webhook_id: str
    message_id: str  # also the `webhook-id` header, the same on every attempt
    message_type: str
    status: DeliveryStatus
    attempts: int
    response_code: int | None
    latency_ms: int | None
    error: str | None
    # The start of the last answer's body (up to WEFT_NOTIFICATIONS_WEBHOOK_RESPONSE_BODY_LIMIT bytes, as text).
    response_body: str | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    created_at: datetime


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None
