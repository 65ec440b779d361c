"""What the index holds about one searchable thing, and how it becomes a tantivy document.

A `SearchDocument` is built from the stored document (sources.py) each time the
feed says it changed, so the index never holds more than the database says now.
It never names an author: a draft's audience token names its creator
(audience.py), and anonymous posts are built without one."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import tantivy

from weft_resources.search import schema

# Text beyond these is not searched (an extracted 500-page PDF stays searchable by
# its first 200,000 characters) nor shown (the preview a snippet is cut from).
MAX_INDEXED_CHARS = 200_000
MAX_PREVIEW_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class SearchDocument:
    doc_type: str  # resource | thread | reply
    id: str
    community_id: str
    kind: str
    title: str  # searched; empty for a reply (its thread's title would match every reply)
    label: str  # shown: the item's or thread's title (a reply shows its thread's)
    body: str
    audience: frozenset[str]
    state: str = "published"
    tags: tuple[str, ...] = ()
    thread_id: str | None = None  # threads and replies
    resource_id: str | None = None  # the item a comment thread is on
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return document_key(self.doc_type, self.id)

    def to_tantivy(self) -> tantivy.Document:
        display = {
            "label": self.label,
            "preview": self.body[:MAX_PREVIEW_CHARS],
            "id": self.id,
            "thread_id": self.thread_id,
            "resource_id": self.resource_id,
            **self.extra,
        }
        doc = tantivy.Document()
        doc.add_text(schema.KEY, self.key)
        doc.add_text(schema.DOC_TYPE, self.doc_type)
        if self.thread_id is not None:
            doc.add_text(schema.THREAD, self.thread_id)
        doc.add_text(schema.COMMUNITY, self.community_id)
        doc.add_text(schema.KIND, self.kind)
        doc.add_text(schema.STATE, self.state)
        for tag in self.tags:
            doc.add_text(schema.TAGS, normal_tag(tag))
        if self.title:
            doc.add_text(schema.TITLE, self.title)
        doc.add_text(schema.BODY, self.body[:MAX_INDEXED_CHARS])
        for token in sorted(self.audience):
            doc.add_text(schema.AUDIENCE, token)
        doc.add_bytes(schema.DISPLAY, orjson.dumps(display))
        return doc


def document_key(doc_type: str, ref_id: str) -> str:
    return f"{doc_type}:{ref_id}"


def normal_tag(tag: str) -> str:
    """Tags match whatever their case (`Dementia` finds `dementia`)."""
    return tag.strip().casefold()
