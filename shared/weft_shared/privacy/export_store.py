"""The export object store: a JetStream Object Store bucket `<stream>_EXPORTS`.

Parts (`<export_id>/<service>.json`) and archives (`<export_id>/archive.zip`) live
here, never in a bus message, and expire with the bucket's TTL (the retention
setting). Writing an object again under the same name replaces it, so a
redelivered request rewrites its part instead of adding one.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass

from faststream.nats import NatsBroker
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BucketNotFoundError, ObjectNotFoundError
from nats.js.object_store import ObjectStore

from weft_shared.privacy.export_settings import ExportSettings
from weft_shared.settings import PlatformSettings

ARCHIVE_NAME = "archive.zip"


def part_name(export_id: str, service: str) -> str:
    return f"{export_id}/{service}.json"


def archive_name(export_id: str) -> str:
    return f"{export_id}/{ARCHIVE_NAME}"


@dataclass(frozen=True, slots=True)
class StoredObject:
    name: str
    sha256: str  # hex
    size: int


class ExportStore:
    def __init__(self, broker: NatsBroker, platform: PlatformSettings, settings: ExportSettings) -> None:
        self._broker = broker
        self.bucket = f"{platform.stream_name}_EXPORTS"
        self._ttl_seconds = settings.retention_days * 86400
        self._max_bytes = settings.max_store_bytes
        self._replicas = platform.stream_replicas
        self._store: ObjectStore | None = None

    async def _objects(self) -> ObjectStore:
        # Opened on first use: the broker is connected by then (messages and requests
        # only arrive after the runtime has started it).
        if self._store is None:
            js = self._broker.config.connection_state.stream
            try:
                self._store = await js.object_store(self.bucket)
            except BucketNotFoundError:
                config = ObjectStoreConfig(
                    description="Personal-data exports: parts and archives",
                    ttl=self._ttl_seconds,
                    storage=StorageType.FILE,
                    max_bytes=self._max_bytes,
                    replicas=self._replicas,  # kept like the stream: one node's loss loses no export
                )
                self._store = await js.create_object_store(self.bucket, config=config)
        return self._store

    async def put(self, name: str, data: bytes) -> StoredObject:
        await (await self._objects()).put(name, data)
        return StoredObject(name, hashlib.sha256(data).hexdigest(), len(data))

    async def delete(self, name: str) -> None:
        """Remove an object now (an erased person's export); one already gone is fine."""
        with contextlib.suppress(ObjectNotFoundError):
            await (await self._objects()).delete(name)

    async def get(self, name: str) -> bytes | None:
        """The object's bytes, or None once it has expired (or was never written)."""
        try:
            result = await (await self._objects()).get(name)
        except ObjectNotFoundError:
            return None
        return result.data or b""
