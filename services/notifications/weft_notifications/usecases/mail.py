"""Composing mails: one notification, or one digest, as a text and an HTML part
from the Jinja2 templates in `templates/` (autoescaped for HTML: titles and
texts come from people), with the network's name and address, a link to the
preferences and RFC 8058 one-click unsubscribe headers for that mail's type and
community."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from weft_notifications.domain.unsubscribe_tokens import UnsubscribeSubject, sign
from weft_notifications.settings import NotificationsSettings
from weft_shared.service.clock import now

Doc = dict[str, Any]
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _base(settings: NotificationsSettings) -> str:
    return settings.public_base_url.rstrip("/")


def _web(settings: NotificationsSettings) -> str | None:
    return settings.web_base_url.rstrip("/") if settings.web_base_url else None


def preferences_url(settings: NotificationsSettings) -> str:
    web = _web(settings)
    return f"{web}/notifications/preferences" if web else f"{_base(settings)}/v1/me/notification-preferences"


def unsubscribe_url(settings: NotificationsSettings, subject: UnsubscribeSubject) -> str:
    """The API's one-click URL (a mail client POSTs to it: RFC 8058)."""
    return f"{_base(settings)}/v1/unsubscribe/{sign(settings.unsubscribe_key, subject)}"


def unsubscribe_page_url(settings: NotificationsSettings, subject: UnsubscribeSubject) -> str:
    """The link a person clicks: the web app's page, which asks before it unsubscribes."""
    web = _web(settings)
    if web is None:
        return unsubscribe_url(settings, subject)
    return f"{web}/unsubscribe/{sign(settings.unsubscribe_key, subject)}"


_INVITATION_ACCEPT = re.compile(r"/v1/invitations/([^/]+)/accept\Z")


def invitation_url(settings: NotificationsSettings, accept_path: str) -> str:
    """An invitation's link: the web app's landing page when there is one, else the API path."""
    web = _web(settings)
    found = _INVITATION_ACCEPT.match(accept_path)
    if web and found:
        return f"{web}/invitations/{found.group(1)}"
    return f"{_base(settings)}{accept_path}"


def render_page(settings: NotificationsSettings, template: str, **values: Any) -> str:
    return (
        _environment()
        .get_template(template)
        .render(network_name=settings.network_name, base_url=_base(settings), **values)
    )


def target_url(settings: NotificationsSettings, target: dict[str, str]) -> str:
    """Where a notification points: an invitation's accept link, its community, else the inbox."""
    web = _web(settings)
    if "archive_path" in target:  # a personal-data export: the web app's page of it, else the API's download
        return f"{web}/me/data" if web else f"{_base(settings)}{target['archive_path']}"
    if "accept_path" in target:
        return invitation_url(settings, target["accept_path"])
    if "community_id" in target:
        return (
            f"{web}/communities/{target['community_id']}"
            if web
            else f"{_base(settings)}/v1/communities/{target['community_id']}"
        )
    return f"{web}/notifications" if web else f"{_base(settings)}/v1/me/notifications"


def message_id(settings: NotificationsSettings, record_id: str) -> str:
    """Derived from the email outbox record, so a mail sent again (see jobs/email_sender.py)
    carries the same Message-ID and a receiving system can recognise the copy."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or urlsplit(settings.public_base_url).hostname
    return f"<{record_id}@{domain or 'weft.invalid'}>"


@dataclass(frozen=True, slots=True)
class Letter:
    """What one mail says, before it is an `EmailMessage`."""

    record_id: str
    to: str
    subject: str
    template: str  # `notification` or `digest` (or a type's own, `<type>.txt.j2`)
    values: Doc
    unsubscribe: UnsubscribeSubject


def render(settings: NotificationsSettings, letter: Letter) -> EmailMessage:
    env = _environment()
    values = {
        "network_name": settings.network_name,
        # The footer's address: where people go (the web app when there is one).
        "base_url": _web(settings) or _base(settings),
        "preferences_url": preferences_url(settings),
        "unsubscribe_url": unsubscribe_page_url(settings, letter.unsubscribe),
        **letter.values,
    }
    names = [letter.template, "notification"] if letter.template != "digest" else ["digest"]
    text = env.select_template([f"{n}.txt.j2" for n in names]).render(values)
    html = env.select_template([f"{n}.html.j2" for n in names]).render(values)

    mail = EmailMessage()
    mail["From"] = settings.mail_from
    mail["To"] = letter.to
    mail["Subject"] = letter.subject
    mail["Date"] = format_datetime(now())
    mail["Message-ID"] = message_id(settings, letter.record_id)
    mail["List-Unsubscribe"] = f"<{unsubscribe_url(settings, letter.unsubscribe)}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to notifications
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    return mail


def notification_letter(
    settings: NotificationsSettings, record_id: str, to: str, user_id: str, notice: Doc, community_name: str | None
) -> Letter:
    """A mail about one notification (an inbox item, or a record's own `notice`)."""
    target = notice.get("target") or {}
    return Letter(
        record_id=record_id,
        to=to,
        subject=f"[{settings.network_name}] {notice['title']}",
        template=str(notice["type"]),
        values={
            "title": notice["title"],
            "text": notice["text"],
            "community_name": community_name,
            "link": notice.get("link") or target_url(settings, target),
        },
        unsubscribe=UnsubscribeSubject(user_id, str(notice["type"]), notice.get("community_id")),
    )


def digest_letter(settings: NotificationsSettings, record_id: str, to: str, user_id: str, digest: Doc) -> Letter:
    kind = digest["kind"]
    items = [{**item, "link": target_url(settings, item.get("target") or {})} for item in digest["items"]]
    count = len(items)
    what = "today" if kind == "daily" else "this week"
    return Letter(
        record_id=record_id,
        to=to,
        subject=f"[{settings.network_name}] {count} notification{'s' if count != 1 else ''} {what}",
        template="digest",
        values={"kind": kind, "items": items, "count": count},
        unsubscribe=UnsubscribeSubject(user_id, f"digest_{kind}", None),
    )


def display_address(name: str | None, address: str) -> str:
    return formataddr((name, address)) if name else address
