"""Personal-data export messages: telling the person their archive is ready (or that
some services did not answer in time). Keyed by the message id: told once."""

from __future__ import annotations

from weft_notifications.domain.catalogue import NotificationType
from weft_notifications.domain.notices import Notice
from weft_notifications.handlers.registry import register_handler
from weft_notifications.usecases.context import NotificationsContext
from weft_notifications.usecases.fanout import notify
from weft_shared.contracts.envelope import Envelope
from weft_shared.contracts.privacy_export import ExportIncomplete, ExportReady
from weft_shared.messaging.consumer import Delivery, MessageDispatcher


def _archive_path(export_id: str) -> str:
    return f"/v1/me/export/{export_id}/archive"


async def export_ready(ctx: NotificationsContext, envelope: Envelope, message: ExportReady, _d: Delivery) -> None:
    notice = Notice(
        type=NotificationType.EXPORT_READY,
        title="Your personal data export is ready",
        text="The archive of everything Weft holds about you is ready to download.",
        community_id=None,
        actor_id=None,
        target={"export_id": message.export_id, "archive_path": _archive_path(message.export_id)},
        key=envelope.id,
        about_the_person=True,
    )
    await notify(ctx, notice, [message.user_id])


async def export_incomplete(
    ctx: NotificationsContext, envelope: Envelope, message: ExportIncomplete, _d: Delivery
) -> None:
    notice = Notice(
        type=NotificationType.EXPORT_INCOMPLETE,
        title="Your personal data export is incomplete",
        text=(
            f"Some parts did not arrive in time ({', '.join(message.missing)}). The archive holds the rest; "
            "ask for a new export to get everything."
        ),
        community_id=None,
        actor_id=None,
        target={"export_id": message.export_id, "archive_path": _archive_path(message.export_id)},
        key=envelope.id,
        about_the_person=True,
    )
    await notify(ctx, notice, [message.user_id])


def register(dispatcher: MessageDispatcher, ctx: NotificationsContext) -> None:
    register_handler(dispatcher, ctx, ExportReady, export_ready)
    register_handler(dispatcher, ctx, ExportIncomplete, export_incomplete)
