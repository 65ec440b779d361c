"""What every events use case is given."""

from __future__ import annotations

from dataclasses import dataclass

from weft_events.settings import EventsSettings
from weft_events.storage import EventsStorage
from weft_shared.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class EventsContext:
    uow: UnitOfWork
    storage: EventsStorage
    settings: EventsSettings
