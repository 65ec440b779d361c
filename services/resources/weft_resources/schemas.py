"""Request and response bodies of the resources API (strict: unknown fields and
objects-for-strings are 422s naming the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from weft_resources.domain.moderation import ContentKind, ModerationAction, ReportReason
from weft_shared.service.models import Strict
from weft_shared.service.text import MultiLine, OneLine

# -- moderation -----------------------------------------------------------------------

ContentId = Annotated[str, OneLine(min_length=1, max_length=64)]
ReportDetails = Annotated[str, MultiLine(max_length=2_000)]
ModerationReason = Annotated[str, MultiLine(min_length=1, max_length=2_000)]


class ContentIn(Strict):
    kind: ContentKind
    id: ContentId


class ReportBody(Strict):
    content: ContentIn
    reason: ReportReason
    details: ReportDetails = ""


class ActionBody(Strict):
    content: ContentIn
    action: ModerationAction
    # Required to remove (checked by the use case, a 422 naming `reason`); kept in the log.
    reason: ModerationReason | None = None


class ContentView(BaseModel):
    kind: ContentKind
    id: str
    community_id: str
    thread_id: str | None = None  # a reply's thread


class ReportView(BaseModel):
    """What the reporter gets back (their own report)."""

    id: str
    content: ContentView
    reason: ReportReason
    details: str
    state: str  # open / closed
    created_at: datetime


class ModerationStateView(BaseModel):
    state: str  # visible / hidden / removed
    by: str | None = None
    at: datetime | None = None
    reason: str | None = None


class ActionResult(BaseModel):
    content: ContentView
    action: ModerationAction
    moderation: ModerationStateView
    locked: bool | None = None  # threads
    reports_closed: int
    log_entry_id: str


class QueuedReport(BaseModel):
    id: str
    reporter_id: str
    reason: ReportReason
    details: str
    created_at: datetime


class QueueEntry(BaseModel):
    """One reported piece of content with its open reports (moderators only)."""

    content: ContentView
    preview: str
    moderation: ModerationStateView
    locked: bool | None = None
    open_reports: int
    reasons: dict[str, int]
    first_reported_at: datetime
    last_reported_at: datetime
    reports: list[QueuedReport]


class QueuePage(BaseModel):
    items: list[QueueEntry]
    next_cursor: str | None


class LogEntry(BaseModel):
    id: str
    at: datetime
    moderator_id: str
    action: ModerationAction
    content: ContentView
    reason: str | None
    reports_closed: int
    # For a removal: the words it took out of the content, kept for audit.
    removed_content: dict[str, str] | None = Field(default=None)


class LogPage(BaseModel):
    items: list[LogEntry]
    next_cursor: str | None
