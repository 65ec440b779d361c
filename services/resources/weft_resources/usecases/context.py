"""What every resources use case is given."""

from __future__ import annotations

from dataclasses import dataclass

from weft_resources.settings import ResourcesSettings
from weft_resources.storage import ResourcesStorage
from weft_shared.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class ResourcesContext:
    uow: UnitOfWork
    storage: ResourcesStorage
    settings: ResourcesSettings
