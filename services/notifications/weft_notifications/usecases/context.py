"""What every notifications use case is given."""

from __future__ import annotations

from dataclasses import dataclass

from weft_notifications.metrics import NotificationMetrics
from weft_notifications.settings import NotificationsSettings
from weft_notifications.storage import NotificationsStorage
from weft_shared.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class NotificationsContext:
    uow: UnitOfWork
    storage: NotificationsStorage
    settings: NotificationsSettings
    metrics: NotificationMetrics | None = None  # None where a test builds a context without a process
