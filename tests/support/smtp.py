"""A real SMTP server for tests: aiosmtpd on a free port of 127.0.0.1, keeping
every message it accepts parsed with the standard library's `email` parser.

`refuse_next(...)` makes it answer the next DATA commands with the given replies
(e.g. "451 4.3.0 try again later", "550 5.1.1 no such mailbox") instead of
accepting them, as a real server under load or with an unknown mailbox does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from weft_cli.procs import free_port


@dataclass
class Received:
    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage


@dataclass
class MailCatcher:
    """The aiosmtpd handler: records accepted mail, refuses on request."""

    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    data_commands: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.data_commands += 1
            if self.refusals:
                return self.refusals.pop(0)
            parsed = message_from_bytes(envelope.original_content, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def refuse_next(self, *replies: str) -> None:
        with self._lock:
            self.refusals.extend(replies)

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received if address in r.envelope_to]


@dataclass
class SmtpServer:
    host: str
    port: int
    catcher: MailCatcher


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    catcher = MailCatcher()
    port = free_port()
    controller = Controller(catcher, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, catcher)
    finally:
        controller.stop()
