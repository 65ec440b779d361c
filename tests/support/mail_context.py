"""The notifications service's use-case context in the test process, on the real
database, for driving its jobs (email sender, digests) with a clock the test
chooses. Several contexts on one database name are several replicas."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from tests.support.smtp import SmtpServer
from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.settings import NotificationsSettings
from weft_notifications.storage import NotificationsStorage
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify
from weft_shared.service.runtime import ServiceRuntime
from weft_shared.settings import PlatformSettings


def new_database_name() -> str:
    return f"weft_notifications_mail_{secrets.token_hex(4)}"


@asynccontextmanager
async def mail_context(
    database_url: str, database: str, smtp: SmtpServer | None = None, **settings: Any
) -> AsyncIterator[NotificationsContext]:
    platform = PlatformSettings(env="dev", mongodb_url=database_url, log_json=False)
    smtp_settings = {"smtp_host": smtp.host, "smtp_port": smtp.port} if smtp else {}
    config = NotificationsSettings(platform=platform, database=database, **{**smtp_settings, **settings})
    runtime = ServiceRuntime("notifications", config)
    storage = NotificationsStorage(runtime.db)
    try:
        await runtime.mongo.require_transactions()
        await storage.create_indexes()
        yield NotificationsContext(runtime.uow, storage, config)
    finally:
        await runtime.mongo.close()


async def add_community(ctx: NotificationsContext, community_id: str, name: str) -> None:
    async def work(_tx: object) -> None:
        state = {"name": name, "slug": community_id, "visibility": "public", "archived": False}
        await ctx.storage.view.record_community(community_id, state, 1)

    await ctx.uow.run(work)


async def add_address(ctx: NotificationsContext, user_id: str, email: str) -> None:
    async def work(_tx: object) -> None:
        await ctx.storage.preferences.record_token_email(user_id, email)

    await ctx.uow.run(work)


async def give(
    ctx: NotificationsContext,
    recipients: Iterable[str],
    *,
    type: NotificationType = NotificationType.JOIN_REQUESTED,
    title: str = "Ben asked to join Falls Prevention",
    community_id: str | None = None,
) -> str:
    """Hand a notice to these people through the service's own fan-out; returns its key."""
    key = f"test-{secrets.token_hex(6)}"
    notice = Notice(
        type=type,
        title=title,
        text="Ben is waiting for a decision.",
        community_id=community_id,
        actor_id="ben",
        target={"community_id": community_id} if community_id else {},
        key=key,
    )

    async def work(_tx: object) -> int:
        return await notify(ctx, notice, list(recipients))

    await ctx.uow.run(work)
    return key
