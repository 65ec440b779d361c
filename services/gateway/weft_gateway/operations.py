"""Which operations exist at a path: the merged OpenAPI document's templates and their methods.

The route table only says which service owns a path prefix. The document says what is under
it, so the access log can name `/v1/communities/{community_id}/members` rather than the prefix,
and OPTIONS and a 405 can list every method of a path. A service's own 405 names only the
methods of the first of its routes that matched (Starlette stops there), never those of a
second route at the same path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import orjson

from weft_gateway.openapi import MergedOpenApi
from weft_shared.service.path_templates import PathTemplates

log = logging.getLogger("weft.gateway.operations")

# The access log looks at the document at most this often, without waiting for it.
_RECHECK_SECONDS = 1.0


class OperationIndex:
    """The templates of the current merged document, rebuilt whenever the document changes."""

    def __init__(self, openapi: MergedOpenApi) -> None:
        self._openapi = openapi
        self._source: bytes | None = None
        self._templates = PathTemplates({})
        self._checked_at = float("-inf")
        self._refreshing: asyncio.Task[PathTemplates] | None = None

    async def current(self) -> PathTemplates:
        """Up to date with the merged document (which may ask the services; it caches their answers)."""
        document = await self._openapi.document()
        self._checked_at = time.monotonic()
        if document is not self._source:
            self._templates = PathTemplates.from_document(orjson.loads(document))
            self._source = document
        return self._templates

    def latest(self) -> PathTemplates:
        """What is known now, never waiting; a refresh runs behind when it is due (the hot path)."""
        due = time.monotonic() - self._checked_at > _RECHECK_SECONDS
        if due and (self._refreshing is None or self._refreshing.done()):
            self._checked_at = time.monotonic()
            self._refreshing = asyncio.create_task(self._refresh())
        return self._templates

    async def stop(self) -> None:
        if self._refreshing is not None:
            self._refreshing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refreshing

    async def _refresh(self) -> PathTemplates:
        try:
            return await self.current()
        except Exception:  # the log line falls back to the route prefix; the next check tries again
            log.exception("could not read the merged OpenAPI document")
            return self._templates
