"""`weft mail`: read the mail the dev stack's catcher kept (see `mailcatcher`).

Mails are numbered in the order they arrived (1 is the first), so a number keeps
meaning the same mail while more arrive; the list shows the newest first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.message import MIMEPart
from pathlib import Path

from weft_cli.mailcatcher import CaughtMail, caught

Echo = Callable[[str], None]
FOLLOW_POLL_SECONDS = 0.5


def line(mail: CaughtMail) -> str:
    received = mail.received_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{mail.number:>4}  {received}  {mail.to}  {mail.subject}"


def list_mail(folder: Path, echo: Echo) -> int:
    mails = caught(folder)
    if not mails:
        echo(_nothing_yet(folder))
        return 0
    for mail in reversed(mails):
        echo(line(mail))
    return 0


def follow_mail(folder: Path, echo: Echo, *, poll_seconds: float = FOLLOW_POLL_SECONDS) -> int:
    """The list, then each new mail as it arrives, until interrupted."""
    list_mail(folder, echo)
    echo("waiting for new mail (Ctrl-C stops) ...")
    shown = {mail.path.name for mail in caught(folder)}
    try:
        while True:
            time.sleep(poll_seconds)
            for mail in caught(folder):
                if mail.path.name not in shown:
                    shown.add(mail.path.name)
                    echo(line(mail))
    except KeyboardInterrupt:
        return 0


def show_mail(folder: Path, number: int | None, echo: Echo) -> int:
    """One mail: its headers, then its text part (and what other parts it has)."""
    mails = caught(folder)
    if not mails:
        echo(_nothing_yet(folder))
        return 1
    if number is None:
        number = len(mails)
    if not 1 <= number <= len(mails):
        echo(f"no mail {number}: the mails are numbered 1 to {len(mails)} ({len(mails)} is the newest)")
        return 1
    mail = mails[number - 1]
    message = mail.message()
    echo(f"mail {mail.number} ({mail.path})")
    for name, value in message.items():
        echo(f"{name}: {value}")
    echo("")
    text = message.get_body(preferencelist=("plain",))
    echo(_text_of(text))
    others = [part for part in message.walk() if not part.is_multipart() and part is not text]
    if others:
        echo("")
        echo("other parts: " + ", ".join(_describe_part(part) for part in others))
    return 0


def _text_of(part: MIMEPart | None) -> str:
    if part is None:
        return "(no text part)"
    content = part.get_content()
    if not isinstance(content, str):
        return "(the text part is not text)"
    return content.replace("\r\n", "\n").rstrip("\n")  # kept as it came over SMTP: CRLF lines


def _describe_part(part: MIMEPart) -> str:
    payload = part.get_payload(decode=True)
    size = len(payload) if isinstance(payload, bytes) else 0
    return f"{part.get_content_type()} ({size} bytes)"


def _nothing_yet(folder: Path) -> str:
    if not folder.is_dir():
        return (
            f"no mail folder at {folder}: `weft dev` (make run) creates it when it starts the mail catcher "
            "with the notifications service (another data folder: --data-dir)"
        )
    return f"no mail caught yet in {folder}"
