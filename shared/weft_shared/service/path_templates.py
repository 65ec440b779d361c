"""Path templates and their methods, read from an OpenAPI document, matched against paths.

Used by the gateway (on the merged document) and by every service (on its own) to say which
operations a concrete path has: in `Allow`, and in the gateway's access log.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

_PARAM = re.compile(r"\{[^}/]+\}")
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


def template_pattern(template: str, *, subtree: bool = False) -> str:
    """`/v1/communities/{id}/events` -> `/v1/communities/[^/]+/events` (+ `(?:/.*)?` for a subtree)."""
    parts: list[str] = []
    last = 0
    for m in _PARAM.finditer(template):
        parts.append(re.escape(template[last : m.start()]))
        parts.append("[^/]+")
        last = m.end()
    parts.append(re.escape(template[last:]))
    return "".join(parts) + ("(?:/.*)?" if subtree else "")


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
