"""What the notifications service adds to its process metrics: webhook delivery outcomes and the email queue."""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter, Gauge

from weft_notifications.storage.email_outbox import EmailOutbox
from weft_shared.metrics import ProcessMetrics

# One per delivery attempt: delivered (2xx), retried (will be sent again), failed (no more
# retries), disabled (the attempt failed and turned its endpoint off: 410 Gone, or failing for days).
WebhookOutcome = Literal["delivered", "retried", "failed", "disabled"]
WEBHOOK_OUTCOMES: tuple[WebhookOutcome, ...] = ("delivered", "retried", "failed", "disabled")
# One per SMTP attempt: sent (accepted), retried (temporary failure), failed (for good).
EmailOutcome = Literal["sent", "retried", "failed"]
EMAIL_OUTCOMES: tuple[EmailOutcome, ...] = ("sent", "retried", "failed")
# The email outbox's states worth watching (`sent` only grows: the counter says it).
QUEUE_STATES = ("pending", "sending", "failed")


class NotificationMetrics:
    def __init__(self, metrics: ProcessMetrics, email_outbox: EmailOutbox) -> None:
        service, registry = metrics.service, metrics.registry
        self._email_outbox = email_outbox
        webhooks = Counter(
            "weft_webhook_deliveries_total",
            "Webhook delivery attempts by outcome: delivered, retried, failed, disabled",
            ["service", "outcome"],
            registry=registry,
        )
        self._webhooks = {outcome: webhooks.labels(service, outcome) for outcome in WEBHOOK_OUTCOMES}
        emails = Counter(
            "weft_email_send_attempts_total",
            "Attempts to hand a mail to the SMTP server, by outcome: sent, retried, failed",
            ["service", "outcome"],
            registry=registry,
        )
        self._emails = {outcome: emails.labels(service, outcome) for outcome in EMAIL_OUTCOMES}
        queue = Gauge(
            "weft_email_queue_messages",
            "Mails in the email outbox by status: pending (waiting or backing off), sending (claimed), failed",
            ["service", "status"],
            registry=registry,
        )
        self._queue = {status: queue.labels(service, status) for status in QUEUE_STATES}
        metrics.on_scrape("email queue", self.refresh)

    def webhook_attempted(self, outcome: WebhookOutcome) -> None:
        self._webhooks[outcome].inc()

    def email_attempted(self, outcome: EmailOutcome) -> None:
        self._emails[outcome].inc()

    async def refresh(self) -> None:
        for status, gauge in self._queue.items():
            gauge.set(await self._email_outbox.count_with_status(status))
