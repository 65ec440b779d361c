"""The dev stack's mail catcher: a local SMTP server (aiosmtpd) that delivers
nothing and keeps every mail it is sent as one `.eml` file in a folder.

`weft dev` runs it as a child process (`python -m weft_cli.mailcatcher`) and points
the notifications service at it; `weft mail` reads the folder. A file is the mail
exactly as received, after two headers naming the SMTP envelope (`X-MailFrom`,
`X-RcptTo`, as aiosmtpd's own Message handler adds them); its name starts with the
UTC time it arrived, so names sort in arrival order.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import os
import secrets
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"
SUFFIX = ".eml"
_STAMP = "%Y%m%dT%H%M%S.%fZ"
# What the catcher prints once it accepts connections (`weft dev` waits for it).
LISTENING = "mail catcher listening on"


def mail_folder(data_dir: Path) -> Path:
    """Where `weft dev` keeps caught mail: `<data folder>/mail`."""
    return data_dir / "mail"


class CatchToFolder:
    """aiosmtpd handler: accept every recipient, keep each mail as a file."""

    def __init__(self, folder: Path, say: Callable[[str], None]) -> None:
        self.folder = folder
        self._say = say

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:  # aiosmtpd names the hook
        content = envelope.original_content or b""
        prefix = f"X-MailFrom: {envelope.mail_from}\r\nX-RcptTo: {', '.join(envelope.rcpt_tos)}\r\n"
        raw = prefix.encode("utf-8") + content
        path = keep(self.folder, raw)
        message = parse(raw)
        self._say(f"caught mail to {recipients(message) or '(nobody)'}: {subject(message)} ({path.name})")
        return "250 OK: caught"


def keep(folder: Path, raw: bytes) -> Path:
    """Write one mail; readers never see half a file (written aside, then renamed)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(UTC).strftime(_STAMP)}-{secrets.token_hex(4)}{SUFFIX}"
    aside = folder / f".{name}.part"
    aside.write_bytes(raw)
    os.replace(aside, folder / name)
    return folder / name


@dataclass(frozen=True)
class CaughtMail:
    number: int  # 1 for the first mail caught in this folder, stable as more arrive
    path: Path
    received_at: datetime
    to: str
    subject: str

    def message(self) -> EmailMessage:
        return parse(self.path.read_bytes())


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # what the default policy builds
    return message


def caught(folder: Path) -> list[CaughtMail]:
    """Every mail in the folder, oldest first."""
    if not folder.is_dir():
        return []
    paths = sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith("."))
    return [_describe(number, path) for number, path in enumerate(paths, start=1)]


def recipients(message: EmailMessage) -> str:
    """Its `To`, else the envelope's recipients (a mail sent only to Bcc)."""
    return str(message.get("To") or message.get("X-RcptTo") or "")


def subject(message: EmailMessage) -> str:
    return str(message.get("Subject") or "(no subject)")


def _describe(number: int, path: Path) -> CaughtMail:
    message = parse(path.read_bytes())
    try:
        received = datetime.strptime(path.name.split("-", 1)[0], _STAMP).replace(tzinfo=UTC)
    except ValueError:  # a file someone put there by hand
        received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return CaughtMail(number, path, received, recipients(message), subject(message))


async def serve(folder: Path, host: str, port: int) -> None:
    """Accept mail until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    handler = CatchToFolder(folder, say=lambda line: print(line, flush=True))
    # A fixed hostname: aiosmtpd's default (socket.getfqdn()) can wait on DNS.
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="weft-mail-catcher", enable_SMTPUTF8=True), host, port
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"{LISTENING} smtp://{host}:{port}, keeping mail in {folder}", flush=True)
    await stop.wait()
    server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m weft_cli.mailcatcher", description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, required=True, help="where to keep caught mail")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default=HOST)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.folder, args.host, args.port))


if __name__ == "__main__":
    main()
