"""The email sender: every few seconds each replica takes due mails from the email
outbox one at a time (an atomic claim with a lease, storage/email_outbox.py),
composes each, hands it to the SMTP server and records the outcome.

- accepted (2xx) → `sent`;
- a temporary refusal (4xx), or no server to talk to → `pending` again, with
  exponential back-off (`next_attempt_at`, `attempts`, `last_error`), until
  `email_max_attempts`, then `failed`;
- a permanent refusal (5xx) → `failed`, recorded, never retried;
- no address known for the person yet → retried like a temporary refusal (their
  address may come later: membership announces it when they first sign in), then
  `failed` after `email_max_attempts`.

The one window where a mail can go twice: the server accepted it and this process
died (or lost the database) before marking it `sent`; the lease lapses and another
sender sends it again. That copy carries the same Message-ID (derived from the
record id, usecases/mail.py), so mail systems and people can recognise it. No
SMTP exchange can close the window: acceptance and our record are two systems.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib

from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.mail import Letter, digest_letter, notification_letter, render
from weft_notifications.usecases.preferences import address_of
from weft_shared.periodic import Periodic
from weft_shared.service.clock import now
from weft_shared.service.ids import new_id

log = logging.getLogger("weft.notifications.email")
Doc = dict[str, Any]
Clock = Callable[[], datetime]


class PermanentFailure(Exception):
    """A mail that will never go: the server refused it for good, or there is nowhere to send it
    (`attempted=False`: no SMTP exchange happened)."""

    def __init__(self, reason: str, *, attempted: bool = True) -> None:
        super().__init__(reason)
        self.attempted = attempted


class TemporaryFailure(Exception):
    """Worth trying again later."""


def _refusal(code: int, message: str) -> Exception:
    text = f"{code} {message}".strip()
    return PermanentFailure(text) if 500 <= code < 600 else TemporaryFailure(text)


def classify(exc: Exception) -> Exception:
    """An SMTP client error as a temporary or permanent failure."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refusals = [_refusal(r.code, r.message) for r in exc.recipients]
        permanent = [r for r in refusals if isinstance(r, PermanentFailure)]
        return permanent[0] if permanent else (refusals[0] if refusals else TemporaryFailure(str(exc)))
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # Our credentials, not this mail: an operator fixes the setting and the mail still goes.
        return TemporaryFailure(f"authentication failed: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _refusal(exc.code, exc.message)
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")  # refused connection, timeout, disconnect


class EmailSender:
    def __init__(self, ctx: NotificationsContext, *, clock: Clock = now, batch_size: int = 50) -> None:
        self._ctx = ctx
        self._clock = clock
        self._batch_size = batch_size
        settings = ctx.settings
        self._poller = Periodic("email sender", self.run_once, settings.email_poll_seconds, report="sent %d mail(s)")

    async def run_once(self) -> int:
        """Send what is due now (up to a batch). Returns how many mails the server accepted."""
        sent = 0
        for _ in range(self._batch_size):
            at = self._clock()
            claim = new_id()
            lease_until = at + timedelta(seconds=self._ctx.settings.email_lease_seconds)
            record = await self._ctx.storage.email_outbox.claim_due(at, claim, lease_until)
            if record is None:
                break
            sent += await self._attempt(record, claim)
        return sent

    async def _attempt(self, record: Doc, claim: str) -> int:
        outbox = self._ctx.storage.email_outbox
        try:
            letter = await self._letter(record)
            await self._send(render(self._ctx.settings, letter))
        except (PermanentFailure, TemporaryFailure) as failure:
            await self._failed(record, claim, failure)
            return 0
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self._failed(record, claim, classify(exc))
            return 0
        except Exception as exc:  # a bug composing this one mail: counted, so it ends `failed`, not looping
            log.exception("mail %s could not be composed", record["_id"])
            await self._failed(record, claim, TemporaryFailure(f"{type(exc).__name__}: {exc}"))
            return 0
        if self._ctx.metrics is not None:
            self._ctx.metrics.email_attempted("sent")
        if not await outbox.mark_sent(record["_id"], claim, self._clock()):
            log.warning("mail %s was sent after its lease lapsed; another sender may send it too", record["_id"])
        return 1

    async def _failed(self, record: Doc, claim: str, failure: Exception) -> None:
        outbox, settings = self._ctx.storage.email_outbox, self._ctx.settings
        attempts = int(record.get("attempts", 0)) + 1
        error = str(failure)
        if isinstance(failure, TemporaryFailure) and attempts < settings.email_max_attempts:
            delay = min(settings.email_retry_base_seconds * 2 ** (attempts - 1), settings.email_retry_max_seconds)
            await outbox.mark_retry(record["_id"], claim, self._clock() + timedelta(seconds=delay), error)
            if self._ctx.metrics is not None:
                self._ctx.metrics.email_attempted("retried")
            log.info("mail %s: temporary failure, retry %d in %.0f s: %s", record["_id"], attempts, delay, error)
            return
        if isinstance(failure, TemporaryFailure):
            error = f"gave up after {attempts} attempts: {error}"
        attempted = not isinstance(failure, PermanentFailure) or failure.attempted
        await outbox.mark_failed(record["_id"], claim, self._clock(), error, attempted=attempted)
        if self._ctx.metrics is not None:
            self._ctx.metrics.email_attempted("failed")
        log.warning("mail %s failed: %s", record["_id"], error)

    async def _letter(self, record: Doc) -> Letter:
        storage, settings = self._ctx.storage, self._ctx.settings
        to = record.get("to")
        if not to and record.get("user_id"):
            user_id = str(record["user_id"])
            to = address_of(await storage.preferences.of(user_id), await storage.view.person(user_id))
        if not to:
            raise TemporaryFailure("no address known yet")
        # A mail to an address with no account yet (an invitation) is unsubscribed by that address.
        user_id = str(record.get("user_id") or f"mailto:{to}")
        if "digest" in record:
            return digest_letter(settings, record["_id"], to, user_id, record["digest"])
        notice = record.get("notice") or await storage.inbox.item(user_id, record["notification_id"])
        if notice is None:
            raise PermanentFailure("the notification no longer exists", attempted=False)
        community = await storage.view.community(notice["community_id"]) if notice.get("community_id") else None
        name = str(community["name"]) if community else None
        return notification_letter(settings, record["_id"], to, user_id, notice, name)

    async def _send(self, mail: EmailMessage) -> None:
        settings = self._ctx.settings
        await aiosmtplib.send(
            mail,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls,
            start_tls=settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )

    def start(self) -> None:
        self._poller.start()

    async def stop(self) -> None:
        await self._poller.stop()
