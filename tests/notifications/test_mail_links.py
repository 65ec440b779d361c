"""Links in mails: API paths by default; the web app's pages once WEFT_NOTIFICATIONS_WEB_BASE_URL is set."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from weft_notifications.settings import NotificationsSettings
from weft_notifications.usecases.mail import invitation_url, notification_letter, render, target_url
from weft_shared.settings import PlatformSettings

DEV = PlatformSettings(env="dev")


def _settings(**values: str) -> NotificationsSettings:
    return NotificationsSettings(platform=DEV, public_base_url="https://api.example.org", **values)


def _mail(settings: NotificationsSettings) -> EmailMessage:
    notice = {
        "type": "member.joined",
        "title": "Ana joined",
        "text": "Ana joined Falls.",
        "target": {"community_id": "c1"},
    }
    return render(settings, notification_letter(settings, "r1", "ben@example.org", "ben", notice, "Falls"))


def _text(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def test_without_the_web_app_links_are_api_paths() -> None:
    settings = _settings()
    assert target_url(settings, {"community_id": "c1"}) == "https://api.example.org/v1/communities/c1"
    export = {"export_id": "e1", "archive_path": "/v1/me/export/e1/archive"}
    assert target_url(settings, export) == "https://api.example.org/v1/me/export/e1/archive"
    assert invitation_url(settings, "/v1/invitations/tok/accept") == "https://api.example.org/v1/invitations/tok/accept"
    mail = _mail(settings)
    assert "https://api.example.org/v1/unsubscribe/" in _text(mail)


@pytest.mark.parametrize("base", ["https://cop.example.org", "https://cop.example.org/"])
def test_with_the_web_app_people_land_on_its_pages(base: str) -> None:
    settings = _settings(web_base_url=base)
    assert target_url(settings, {"community_id": "c1"}) == "https://cop.example.org/communities/c1"
    assert target_url(settings, {}) == "https://cop.example.org/notifications"
    # A mail client has no token for the API's download: the web app's page signs the person in.
    export = {"export_id": "e1", "archive_path": "/v1/me/export/e1/archive"}
    assert target_url(settings, export) == "https://cop.example.org/me/data"
    assert (
        target_url(settings, {"accept_path": "/v1/invitations/tok/accept"}) == "https://cop.example.org/invitations/tok"
    )
    mail = _mail(settings)
    text = _text(mail)
    assert "https://cop.example.org/unsubscribe/" in text
    assert "https://cop.example.org/notifications/preferences" in text
    assert "https://cop.example.org/communities/c1" in text
    assert "/v1/" not in text and "api.example.org" not in text
    # The one-click header stays on the API: a mail client POSTs there without a page (RFC 8058).
    assert mail["List-Unsubscribe"].startswith("<https://api.example.org/v1/unsubscribe/")
    page_token = text.split("https://cop.example.org/unsubscribe/")[1].split()[0]
    assert mail["List-Unsubscribe"].rstrip(">").endswith(page_token)
