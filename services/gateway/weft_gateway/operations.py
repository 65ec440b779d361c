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
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from weft_gateway.openapi import MergedOpenApi
from weft_gateway.routes import template_pattern

log = logging.getLogger("weft.gateway.operations")

_PARAM = re.compile(r"\{[^}/]+\}")
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
# The access log looks at the document at most this often, without waiting for it.
_RECHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class PathOperations:
    template: str
    methods: frozenset[str]

    @property
    def allow(self) -> str:
        """The `Allow` header: what the document lists, HEAD with GET (Starlette serves it), OPTIONS."""
        methods = set(self.methods) | {"OPTIONS"}
        if "GET" in methods:
            methods.add("HEAD")
        return ", ".join(sorted(methods))


class PathTemplates:
    """Concrete paths matched against templates, the most specific template first."""

    def __init__(self, paths: Mapping[str, Iterable[str]]) -> None:
        # A literal segment beats a parameter (`/v1/me/attendance.csv` before `/v1/me/{x}`), then longer first.
        ordered = sorted(paths, key=lambda t: (len(_PARAM.findall(t)), -len(t)))
        self._operations = [PathOperations(t, frozenset(m.upper() for m in paths[t])) for t in ordered]
        pattern = "|".join(f"(?P<t{i}>{template_pattern(op.template)})" for i, op in enumerate(self._operations))
        self._regex = re.compile(f"(?:{pattern})\\Z") if self._operations else None

    def match(self, path: str) -> PathOperations | None:
        m = self._regex.match(path) if self._regex is not None else None
        if m is None or m.lastgroup is None:
            return None
        return self._operations[int(m.lastgroup[1:])]

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> PathTemplates:
        paths = document.get("paths") or {}
        return cls(
            {
                template: [m.upper() for m in item if m.upper() in _METHODS]
                for template, item in paths.items()
                if isinstance(item, dict)
            }
        )


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
