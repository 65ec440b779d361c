"""Codes of conduct: the versions this app has shown, and what changed between two of them.

The API serves only a community's current version, so to show a member what changed since
the version they accepted, the web app keeps each version's text the first time it shows it
(in its own database, beside the sessions). A version it never saw is shown whole instead.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Request
from pymongo.asynchronous.collection import AsyncCollection

Change = Literal["same", "added", "removed"]


@dataclass(frozen=True)
class ChangedLine:
    change: Change
    text: str


def changes(old: str, new: str) -> list[ChangedLine]:
    """Line by line: what stayed, what was removed, what was added (in reading order)."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    lines: list[ChangedLine] = []
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            lines.extend(ChangedLine("same", t) for t in old_lines[a1:a2])
            continue
        lines.extend(ChangedLine("removed", t) for t in old_lines[a1:a2] if t.strip())
        lines.extend(ChangedLine("added", t) for t in new_lines[b1:b2] if t.strip())
    return lines


class ConductArchive:
    """Texts by (community, version); a version's text never changes once published."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._versions = collection
        self._known: set[tuple[str, int]] = set()

    async def remember(self, community_id: str, conduct: dict[str, Any] | None) -> None:
        if not conduct:
            return
        key = (community_id, int(conduct["version"]))
        if key in self._known:
            return
        await self._versions.update_one(
            {"_id": f"{key[0]}:{key[1]}"},
            {"$setOnInsert": {"community_id": key[0], "version": key[1], "text": str(conduct["text"])}},
            upsert=True,
        )
        if len(self._known) > 100_000:
            self._known.clear()
        self._known.add(key)

    async def text_of(self, community_id: str, version: int) -> str | None:
        found = await self._versions.find_one({"_id": f"{community_id}:{int(version)}"})
        return str(found["text"]) if found else None


def conduct_archive(request: Request) -> ConductArchive:
    """One archive per process, in the web app's database (the one that holds the sessions)."""
    state = request.app.state
    archive: ConductArchive | None = getattr(state, "conduct_archive", None)
    if archive is None:
        archive = ConductArchive(state.web.db["conduct_versions"])
        state.conduct_archive = archive
    return archive
