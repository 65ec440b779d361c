"""Mail: composed from the templates, sent through a real SMTP server (aiosmtpd),
retried on temporary refusals, given up on permanent ones, never sent twice by
two senders; and end to end, a join request mailed to the community's owner."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.conftest import StartService
from tests.support.api import create_community, join, new_person
from tests.support.mail_context import add_address, add_community, give, mail_context, new_database_name
from tests.support.smtp import SmtpServer, smtp_server
from tests.support.waiting import eventually
from weft_cli.ladder import DatabaseHandle
from weft_cli.procs import free_port
from weft_cli.testing import ServiceProcess
from weft_notifications.jobs.email_sender import EmailSender
from weft_notifications.usecases.context import NotificationsContext
from weft_shared.service.clock import now

Doc = dict[str, Any]
BASE_URL = "https://cop.example.org"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


class Clock:
    def __init__(self) -> None:
        self.at = now()

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


async def outbox_records(ctx: NotificationsContext) -> list[Doc]:
    return await ctx.storage.email_outbox.collection.find({}).sort([("created_at", 1)]).to_list()


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None, message
    return text.get_content(), html.get_content()


async def test_a_mail_has_text_and_html_parts_the_network_and_one_click_unsubscribe(
    database: DatabaseHandle, smtp: SmtpServer
) -> None:
    settings = {"public_base_url": BASE_URL, "network_name": "Care Network"}
    async with mail_context(database.url, new_database_name(), smtp, **settings) as ctx:
        await add_community(ctx, "c0ffee", "Falls <Prevention>")
        await add_address(ctx, "ana", "ana@example.org")
        await give(ctx, ["ana"], title="Ben <b>asked</b> to join", community_id="c0ffee")
        clock = Clock()

        assert await EmailSender(ctx, clock=clock).run_once() == 1

        [record] = await outbox_records(ctx)
        assert record["status"] == "sent" and record["attempts"] == 1 and "claim" not in record
        [mail] = smtp.catcher.to("ana@example.org")
        assert mail["To"] == "ana@example.org"
        assert mail["Subject"] == "[Care Network] Ben <b>asked</b> to join"
        assert mail["Message-ID"] == f"<{record['_id']}@weft.invalid>"
        unsubscribe = re.fullmatch(
            rf"<{re.escape(BASE_URL)}/v1/unsubscribe/([A-Za-z0-9_.-]+)>", mail["List-Unsubscribe"]
        )
        assert unsubscribe, mail["List-Unsubscribe"]
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail.is_multipart() and mail.get_content_type() == "multipart/alternative"
        text, html = parts(mail)
        preferences = f"{BASE_URL}/v1/me/notification-preferences"
        for part in (text, html):
            assert "Care Network" in part and preferences in part and unsubscribe.group(1) in part
        assert "Ben <b>asked</b> to join" in text and "Falls <Prevention>" in text
        # People's words are escaped in HTML, never markup.
        assert "Ben &lt;b&gt;asked&lt;/b&gt; to join" in html and "<b>" not in html
        assert "Falls &lt;Prevention&gt;" in html
        assert f'href="{BASE_URL}/v1/communities/c0ffee"' in html


async def test_a_temporary_refusal_is_retried_with_back_off_and_sent_once(
    database: DatabaseHandle, smtp: SmtpServer
) -> None:
    async with mail_context(database.url, new_database_name(), smtp, email_retry_base_seconds=30) as ctx:
        await add_address(ctx, "ana", "ana@example.org")
        await give(ctx, ["ana"])
        clock = Clock()
        sender = EmailSender(ctx, clock=clock)
        smtp.catcher.refuse_next("451 4.3.0 Try again later", "452 4.3.1 Still busy")

        assert await sender.run_once() == 0
        [record] = await outbox_records(ctx)
        assert record["status"] == "pending" and record["attempts"] == 1
        assert record["last_error"].startswith("451")
        assert record["next_attempt_at"] == clock.at + timedelta(seconds=30)
        assert await sender.run_once() == 0  # not due yet: nothing tried
        assert smtp.catcher.data_commands == 1

        clock.advance(30)
        assert await sender.run_once() == 0
        [record] = await outbox_records(ctx)
        assert record["attempts"] == 2 and record["next_attempt_at"] == clock.at + timedelta(seconds=60)

        clock.advance(60)
        assert await sender.run_once() == 1
        clock.advance(3600)
        assert await sender.run_once() == 0
        [record] = await outbox_records(ctx)
        assert record["status"] == "sent" and record["attempts"] == 3
        assert len(smtp.catcher.to("ana@example.org")) == 1


async def test_no_server_to_talk_to_is_temporary(database: DatabaseHandle) -> None:
    async with mail_context(database.url, new_database_name(), smtp_port=free_port()) as ctx:
        await add_address(ctx, "ana", "ana@example.org")
        await give(ctx, ["ana"])
        assert await EmailSender(ctx, clock=Clock()).run_once() == 0
        [record] = await outbox_records(ctx)
        assert record["status"] == "pending" and record["attempts"] == 1 and record["last_error"]


async def test_a_permanent_refusal_is_recorded_as_failed_and_never_retried(
    database: DatabaseHandle, smtp: SmtpServer
) -> None:
    async with mail_context(database.url, new_database_name(), smtp) as ctx:
        await add_address(ctx, "ana", "ana@example.org")
        await give(ctx, ["ana"])
        clock = Clock()
        sender = EmailSender(ctx, clock=clock)
        smtp.catcher.refuse_next("550 5.1.1 No such mailbox")

        assert await sender.run_once() == 0
        clock.advance(7 * 24 * 3600)
        assert await sender.run_once() == 0
        [record] = await outbox_records(ctx)
        assert record["status"] == "failed" and record["attempts"] == 1
        assert record["last_error"] == "550 5.1.1 No such mailbox"
        assert smtp.catcher.data_commands == 1 and smtp.catcher.received == []


async def test_a_mail_waits_for_an_address_that_is_not_known_yet(database: DatabaseHandle, smtp: SmtpServer) -> None:
    """Someone invited by user id before they ever signed in: their address comes later."""
    async with mail_context(database.url, new_database_name(), smtp, email_retry_base_seconds=30) as ctx:
        await give(ctx, ["newcomer"])
        clock = Clock()
        sender = EmailSender(ctx, clock=clock)
        assert await sender.run_once() == 0
        [record] = await outbox_records(ctx)
        assert record["status"] == "pending" and record["last_error"] == "no address known yet"
        assert smtp.catcher.data_commands == 0

        await add_address(ctx, "newcomer", "newcomer@example.org")
        clock.advance(31)
        assert await sender.run_once() == 1
        assert len(smtp.catcher.to("newcomer@example.org")) == 1


async def test_the_address_a_person_set_wins_over_their_tokens(database: DatabaseHandle, smtp: SmtpServer) -> None:
    async with mail_context(database.url, new_database_name(), smtp) as ctx:
        await add_address(ctx, "ana", "ana@example.org")
        await ctx.storage.preferences.collection.insert_one({"_id": "ana", "email": "ana@work.example"})
        await give(ctx, ["ana"])
        assert await EmailSender(ctx, clock=Clock()).run_once() == 1
        assert smtp.catcher.to("ana@example.org") == [] and len(smtp.catcher.to("ana@work.example")) == 1


async def test_two_senders_never_send_one_mail_twice(database: DatabaseHandle, smtp: SmtpServer) -> None:
    name = new_database_name()
    people = [f"p{i:02d}" for i in range(24)]
    async with mail_context(database.url, name, smtp) as one, mail_context(database.url, name, smtp) as two:
        for person in people:
            await add_address(one, person, f"{person}@example.org")
        await give(one, people)
        clock = Clock()
        sent = await asyncio.gather(EmailSender(one, clock=clock).run_once(), EmailSender(two, clock=clock).run_once())

        assert sum(sent) == len(people)
        ids = [r.message["Message-ID"] for r in smtp.catcher.received]
        assert len(ids) == len(set(ids)) == len(people)
        assert {r["status"] for r in await outbox_records(one)} == {"sent"}


async def test_a_mail_whose_sender_died_is_sent_again_with_the_same_message_id(
    database: DatabaseHandle, smtp: SmtpServer
) -> None:
    async with mail_context(database.url, new_database_name(), smtp, email_lease_seconds=120) as ctx:
        await add_address(ctx, "ana", "ana@example.org")
        await give(ctx, ["ana"])
        clock = Clock()
        # A sender claims the mail and dies before settling it.
        held = await ctx.storage.email_outbox.claim_due(clock.at, "dead-sender", clock.at + timedelta(seconds=120))
        assert held is not None
        sender = EmailSender(ctx, clock=clock)
        assert await sender.run_once() == 0  # its lease still holds

        clock.advance(121)
        assert await sender.run_once() == 1
        [mail] = smtp.catcher.to("ana@example.org")
        assert mail["Message-ID"] == f"<{held['_id']}@weft.invalid>"
        # The dead sender, back, cannot overwrite what the live one recorded.
        assert not await ctx.storage.email_outbox.mark_retry(held["_id"], "dead-sender", clock.at, "late")
        assert (await ctx.storage.email_outbox.record(held["_id"]) or {})["status"] == "sent"


# -- end to end -----------------------------------------------------------------------


@pytest.fixture
def mailing_notifications(
    start_service: StartService, smtp: SmtpServer, gateway_service: ServiceProcess
) -> ServiceProcess:
    """A notifications process of its own (own database and consumer) that mails to `smtp`,
    with links on the gateway."""
    suffix = secrets.token_hex(4)
    return start_service(
        "notifications",
        env={
            "WEFT_NOTIFICATIONS_DATABASE": f"weft_notifications_e2e_{suffix}",
            "WEFT_NOTIFICATIONS_CONSUMER_NAME": f"notifications-mail-{suffix}",
            # A consumer of its own that starts now: replaying the session's whole stream first is slow.
            "WEFT_NOTIFICATIONS_CONSUMER_START": "new",
            "WEFT_NOTIFICATIONS_SMTP_HOST": smtp.host,
            "WEFT_NOTIFICATIONS_SMTP_PORT": str(smtp.port),
            "WEFT_NOTIFICATIONS_EMAIL_POLL_SECONDS": "0.2",
            "WEFT_NOTIFICATIONS_PUBLIC_BASE_URL": gateway_service.url,
        },
    )


async def test_a_join_request_is_mailed_to_the_owner_whose_link_unsubscribes_without_login(
    web: httpx.AsyncClient, mailing_notifications: ServiceProcess, smtp: SmtpServer
) -> None:
    ana, ben = new_person("ana"), new_person("ben")
    async with httpx.AsyncClient(base_url=mailing_notifications.url, timeout=30) as direct:
        # Any call to the notifications API records the address on Ana's token.
        seen = await direct.get("/v1/me/notifications/unread-count", headers=ana.headers)
        assert seen.status_code == 200, seen.text
    community = await create_community(
        web, ana, name=f"Falls Prevention {secrets.token_hex(2)}", join_policy="approval"
    )
    assert (await join(web, community["id"], ben)).status_code == 202

    [mail] = await eventually(lambda: asyncio.sleep(0, smtp.catcher.to(ana.email)), what="the owner's mail")
    assert mail["Subject"] == f"[Weft] Ben asked to join {community['name']}"
    text, _html = parts(mail)
    assert f"{str(web.base_url).rstrip('/')}/v1/me/notification-preferences" in text
    assert smtp.catcher.to(ben.email) == []  # the actor is not told

    link = mail["List-Unsubscribe"].strip("<>")
    # Through the gateway, no token: the session's notifications service turns it off.
    page = await eventually(
        lambda: _unsubscribed_page(web, link, community["name"]), what="the unsubscribe page naming the community"
    )
    assert "Stop emails about new join requests in" in page
    pressed = await web.post(link, headers={"Accept": "text/html"})
    assert "You will no longer get emails about new join requests in" in pressed.text, pressed.text
    preferences = await web.get("/v1/me/notification-preferences", headers=ana.headers)
    community_prefs = preferences.json()["communities"][community["id"]]
    assert community_prefs["types"] == {"join_requested": "in_app"}
    assert preferences.json()["defaults"]["join_requested"] == "email"


async def _unsubscribed_page(web: httpx.AsyncClient, link: str, community_name: str) -> str | None:
    response = await web.get(link)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return response.text if community_name in response.text else None
