"""`weft dev` catches the notifications service's mail: a local SMTP server whose
mails `weft mail` lists, shows and follows. Mail is sent with smtplib and read back
with the standard library's email parser, as a mail client would."""

from __future__ import annotations

import os
import re
import signal
import smtplib
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.devstack.test_devstack import RUNNING, interrupt, start_dev
from weft_cli.mailcatcher import caught
from weft_cli.procs import ManagedProcess, pid_alive, wait_until
from weft_cli.services import weft_command
from weft_cli.testing import clean_base_env


@dataclass
class Stack:
    dev: ManagedProcess
    data_dir: Path
    smtp_port: int

    @property
    def folder(self) -> Path:
        return self.data_dir / "mail"

    def pid_of(self, what: str) -> int:
        return int(self.dev.wait_for_output(rf"{what} started \(pid (\d+)\)").group(1))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("mail-stack") / "data"
    dev = start_dev(data_dir, "--services", "notifications")  # the last --services wins
    try:
        dev.wait_for_output(RUNNING, timeout=120)
        port = int(dev.wait_for_output(r"^\s+mail\s+smtp://127\.0\.0\.1:(\d+) catches every mail").group(1))
        yield Stack(dev, data_dir, port)
    finally:
        assert interrupt(dev) == 0


def send(port: int, subject: str, to: str = "Ána Silva <ana@example.org>") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Weft <notifications@weft.example.org>"
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(f"Ben asked to join Dementia Care Nurses. ({subject})\n")
    mail.add_alternative(f"<p>Ben asked to join <b>Dementia Care Nurses</b>. ({subject})</p>", subtype="html")
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        assert smtp.send_message(mail) == {}  # every recipient accepted
    return mail


def weft_mail(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*weft_command(), "mail", "--data-dir", str(stack.data_dir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_base_env(),
        check=False,
    )


def listed_subjects(stack: Stack) -> list[str]:
    listing = weft_mail(stack)
    assert listing.returncode == 0, listing.stderr
    return [re.split(r"\s{2,}", line.strip())[-1] for line in listing.stdout.splitlines()]


def test_the_notifications_service_is_pointed_at_the_catcher(stack: Stack) -> None:
    environ = Path(f"/proc/{stack.pid_of('notifications')}/environ").read_bytes().split(b"\0")
    settings = dict(item.decode().split("=", 1) for item in environ if item.startswith(b"WEFT_NOTIFICATIONS_SMTP_"))
    assert settings == {
        "WEFT_NOTIFICATIONS_SMTP_HOST": "127.0.0.1",
        "WEFT_NOTIFICATIONS_SMTP_PORT": str(stack.smtp_port),
        "WEFT_NOTIFICATIONS_SMTP_STARTTLS": "false",
    }
    assert f".venv/bin/weft mail --data-dir {stack.data_dir}" in stack.dev.tail(60)  # where mail is read
    # A webhook receiver a developer runs on this machine is allowed in dev (never outside it unless set).
    everything = dict(item.decode().split("=", 1) for item in environ if b"=" in item)
    assert everything["WEFT_NOTIFICATIONS_WEBHOOK_ALLOWED_NETWORKS"] == '["127.0.0.0/8", "::1/128"]'


def test_a_caught_mail_is_kept_listed_and_shown(stack: Stack) -> None:
    sent = send(stack.smtp_port, "Join request: Dementia Care Nurses")
    stack.dev.wait_for_output(r"mail \| caught mail to .*: Join request: Dementia Care Nurses \(\S+\.eml\)")

    [kept] = [m for m in caught(stack.folder) if m.subject == sent["Subject"]]
    message = kept.message()  # the standard library's parser, on the file as kept
    assert message["To"] == "Ána Silva <ana@example.org>" and message["X-RcptTo"] == "ana@example.org"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content() == f"Ben asked to join Dementia Care Nurses. ({sent['Subject']})\r\n"
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "<b>Dementia Care Nurses</b>" in html.get_content()
    assert kept.path.read_bytes().endswith(f"--{message.get_boundary()}--\r\n".encode())  # kept whole

    listing = weft_mail(stack)
    assert listing.returncode == 0, listing.stderr
    assert re.search(
        rf"^\s+{kept.number}  \d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d  Ána Silva <ana@example.org>  {sent['Subject']}$",
        listing.stdout,
        re.MULTILINE,
    ), listing.stdout

    shown = weft_mail(stack, "show", str(kept.number))
    assert shown.returncode == 0, shown.stderr
    assert (
        f"Subject: {sent['Subject']}\n" in shown.stdout
        and "From: Weft <notifications@weft.example.org>\n" in shown.stdout
    )
    assert f"\n\nBen asked to join Dementia Care Nurses. ({sent['Subject']})\n" in shown.stdout
    assert "other parts: text/html (" in shown.stdout

    unknown = weft_mail(stack, "show", "999")
    assert unknown.returncode == 1 and "no mail 999" in unknown.stdout


def test_follow_prints_new_mail_and_a_restarted_catcher_keeps_catching(stack: Stack) -> None:
    follow = ManagedProcess(
        "weft-mail-follow",
        [*weft_command(), "mail", "--follow", "--data-dir", str(stack.data_dir)],
        env=clean_base_env(),
    )
    try:
        follow.wait_for_output(r"waiting for new mail")
        send(stack.smtp_port, "Falls huddle moved to Room 5")
        follow.wait_for_output(r"^\s+\d+  \S+ \S+  Ána Silva <ana@example.org>  Falls huddle moved to Room 5$")
    finally:
        follow.send_signal(signal.SIGINT)
        assert follow.wait(timeout=30) == 0

    catcher = stack.pid_of("mail catcher")
    os.kill(catcher, signal.SIGKILL)
    stack.dev.wait_for_output(r"mail is back \(pid \d+\)")
    wait_until(lambda: not pid_alive(catcher), timeout=10, what="the old catcher to be gone")
    send(stack.smtp_port, "Reminder: falls huddle tomorrow")  # the same port, after the restart
    assert listed_subjects(stack)[:2] == ["Reminder: falls huddle tomorrow", "Falls huddle moved to Room 5"]
