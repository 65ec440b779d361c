"""The index on this replica's disk: open it (or say it must be rebuilt), apply
changes, search.

Beside tantivy's files, `weft-search.json` says which schema version the index
has and how far along the search feed it is (the `at` of the newest feed record
applied). It is written after each tantivy commit, so after a crash it is never
ahead of the index: the indexer re-reads from an older position, which only
re-applies changes (applying is idempotent). An index that will not open, has no
such file or another schema version is wiped and rebuilt from the database.

Every method blocks (tantivy works on disk); callers run them in a thread.
Tantivy's writer lock keeps a second process off a folder in use: each replica
needs a folder of its own."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import tantivy

from weft_resources.search import schema
from weft_resources.search.documents import SearchDocument

log = logging.getLogger("weft.resources.search")

STATE_FILE = "weft-search.json"
WRITER_HEAP_BYTES = 64_000_000


@dataclass(frozen=True, slots=True)
class Hit:
    score: float
    key: str
    doc_type: str
    community_id: str
    kind: str
    state: str
    display: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Removal:
    """Index documents to remove: by `key` (one document) or by `thread` (a thread and its replies)."""

    field: str
    value: str


class LocalIndex:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.schema = schema.build_schema()
        self._index: tantivy.Index | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.Lock()
        self.position: datetime | None = None
        self.source = ""
        self.ready = False  # open and caught up with the feed (set by the indexer)

    # -- opening -------------------------------------------------------------

    def open(self, source: str = "") -> bool:
        """Open the index. True when it is new (or was unusable, or built from another
        `source` database, and is now empty): it must be rebuilt from the database
        before its position means anything."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.source = source
        state = self._read_state()
        if state is not None and state["source"] == source and Path(self.folder, "meta.json").exists():
            try:
                self._attach(tantivy.Index.open(str(self.folder)))
                self.position = state["position"]
                return False
            except (ValueError, OSError) as exc:
                log.warning("search index in %s is unusable (%s): rebuilding it", self.folder, exc)
                self.close()
        self._wipe()
        self._attach(tantivy.Index(self.schema, path=str(self.folder), reuse=False))
        self.position = None
        return True

    def _attach(self, index: tantivy.Index) -> None:
        index.config_reader(reload_policy="manual")
        searcher = index.searcher()  # a corrupt segment fails here, not at the first query
        searcher.num_docs  # noqa: B018
        self._index = index
        self._writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state = json.loads(Path(self.folder, STATE_FILE).read_text())
            if state.get("schema_version") != schema.SCHEMA_VERSION:
                return None
            position = state.get("position")
            return {
                "position": datetime.fromisoformat(position) if position else None,
                "source": state.get("source"),
            }
        except (OSError, ValueError, AttributeError):
            return None

    def _write_state(self) -> None:
        path = Path(self.folder, STATE_FILE)
        tmp = path.with_suffix(".tmp")
        state = {
            "schema_version": schema.SCHEMA_VERSION,
            "source": self.source,
            "position": self.position.isoformat() if self.position else None,
        }
        with open(tmp, "w") as f:
            f.write(json.dumps(state))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def _wipe(self) -> None:
        for entry in self.folder.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def close(self) -> None:
        with self._lock:
            writer, self._writer, self._index = self._writer, None, None
            if writer is not None:
                with contextlib.suppress(ValueError):
                    writer.rollback()
                del writer

    # -- writing -------------------------------------------------------------

    def apply(
        self, removals: Iterable[Removal], additions: Iterable[SearchDocument], position: datetime | None
    ) -> None:
        """Remove, then add, then commit, then record `position` (if later than the one held)."""
        with self._lock:
            writer = self._need_writer()
            for removal in removals:
                writer.delete_documents_by_term(removal.field, removal.value)
            for doc in additions:
                writer.add_document(doc.to_tantivy())
            writer.commit()
            self._need_index().reload()
            if position is not None and (self.position is None or position > self.position):
                self.position = position
            self._write_state()

    def clear(self) -> None:
        """Remove every document (before a rebuild); the position is forgotten."""
        with self._lock:
            writer = self._need_writer()
            writer.delete_all_documents()
            writer.commit()
            self._need_index().reload()
            self.position = None
            self._write_state()

    def add(self, additions: Iterable[SearchDocument]) -> None:
        """Add without committing (a rebuild adds in batches, then commits once with `apply`)."""
        with self._lock:
            writer = self._need_writer()
            for doc in additions:
                writer.add_document(doc.to_tantivy())

    # -- reading -------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self._need_index().searcher()

    def search(self, query: tantivy.Query, limit: int, searcher: tantivy.Searcher | None = None) -> list[Hit]:
        searcher = searcher or self.searcher()
        hits = []
        for score, address in searcher.search(query, limit, count=False).hits:
            doc = searcher.doc(address)
            hits.append(
                Hit(
                    score=float(score),
                    key=str(doc.get_first(schema.KEY)),
                    doc_type=str(doc.get_first(schema.DOC_TYPE)),
                    community_id=str(doc.get_first(schema.COMMUNITY)),
                    kind=str(doc.get_first(schema.KIND)),
                    state=str(doc.get_first(schema.STATE)),
                    display=orjson.loads(doc.get_first(schema.DISPLAY) or b"{}"),
                )
            )
        return hits

    def count(self) -> int:
        return int(self.searcher().num_docs)

    def _need_index(self) -> tantivy.Index:
        if self._index is None:
            raise RuntimeError("the search index is not open")
        return self._index

    def _need_writer(self) -> tantivy.IndexWriter:
        if self._writer is None:
            raise RuntimeError("the search index is not open")
        return self._writer
