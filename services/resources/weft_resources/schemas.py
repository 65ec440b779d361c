"""Request and response bodies of the resources API (strict: unknown fields and
objects-for-strings are 422s naming the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from weft_resources.domain.moderation import ContentKind, ModerationAction, ReportReason
from weft_resources.domain.resources import Licence, link_problem
from weft_shared.service.models import Flag, Strict
from weft_shared.service.openapi import patch_body_schema
from weft_shared.service.text import MultiLine, OneLine
from weft_shared.service.times import Instant

# -- library items (api/resources.py) ---------------------------------------------

Title = Annotated[str, OneLine(min_length=1, max_length=200)]
Summary = Annotated[str, MultiLine(max_length=2000)]
# Slug-ish: words (any script) joined by hyphens, lower-cased, e.g. "patient-safety".
Tag = Annotated[str, OneLine(min_length=1, max_length=40, pattern=r"^\w+(-\w+)*$", to_lower=True)]
AuthorName = Annotated[str, OneLine(min_length=1, max_length=120)]
Provenance = Annotated[str, MultiLine(max_length=1000)]
LinkUrl = Annotated[str, OneLine(min_length=1, max_length=2000)]
# The upper bound is a setting (`max_note_chars`), checked by the use case.
NoteText = Annotated[str, MultiLine(min_length=1)]
VisibilityName = Literal["community", "partners", "network"]
EditableStatus = Literal["draft", "published"]
StatusName = Literal["draft", "published", "archived"]
KindName = Literal["file", "link", "note"]


def _check_link(value: str | None) -> str | None:
    if value is None:
        return None
    problem = link_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class ResourceFields(Strict):
    """Fields shared by create and update."""

    title: Title | None = None
    summary: Summary | None = None
    tags: Annotated[list[Tag], Field(max_length=20)] | None = None
    authors: Annotated[list[AuthorName], Field(max_length=20)] | None = None
    licence: Licence | None = None
    source: Provenance | None = None
    visibility: VisibilityName | None = None
    status: EditableStatus | None = None
    url: LinkUrl | None = None  # links
    text: NoteText | None = None  # notes: Markdown

    _url = field_validator("url")(_check_link)


class ResourceCreate(ResourceFields):
    kind: Literal["link", "note"]  # files are uploaded (multipart) on their own route
    title: Title
    summary: Summary = ""
    tags: Annotated[list[Tag], Field(max_length=20)] = Field(default_factory=list)
    authors: Annotated[list[AuthorName], Field(max_length=20)] = Field(default_factory=list)
    visibility: VisibilityName = "community"
    status: EditableStatus = "published"


# Fields an item always has: null would store a hole (send "" or [] to empty a summary or a list).
_NEVER_NULL = ("title", "summary", "tags", "authors", "visibility", "status", "url", "text")


class ResourceUpdate(ResourceFields):
    model_config = ConfigDict(extra="forbid", json_schema_extra=patch_body_schema(*_NEVER_NULL))

    @model_validator(mode="after")
    def _something(self) -> ResourceUpdate:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    @field_validator(*_NEVER_NULL)
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the caller sent (defaults are not validated), so the error names the field.
        if value is None:
            raise ValueError("cannot be null")
        return value


class FileView(BaseModel):
    file_id: str
    filename: str
    content_type: str
    size: int
    sha256: str


class EndorsementView(BaseModel):
    by: str
    at: datetime


class ResourceView(BaseModel):
    id: str
    community_id: str
    kind: KindName
    title: str
    summary: str
    tags: list[str]
    authors: list[str]
    licence: str | None
    source: str | None
    visibility: VisibilityName
    status: StatusName
    url: str | None = None  # links
    # Notes, on an item's own page (lists leave them out): the Markdown and its sanitized HTML.
    text: str | None = None
    note_html: str | None = None
    file: FileView | None = None  # files: the current version's
    version: int
    # The linked communities it is explicitly shared with: shown to its own community's members only.
    shared_with: list[str] | None = None
    review_by: datetime | None = None
    review_due: bool = False  # its review-by date has come (curation)
    endorsed: EndorsementView | None = None
    useful_count: int = 0
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
    can_edit: bool = False


class ResourcePage(BaseModel):
    items: list[ResourceView]
    next_cursor: str | None


# -- versions (api/versions.py) -----------------------------------------------------


class VersionSummary(BaseModel):
    number: int
    change: Literal["created", "edited", "uploaded", "restored"]
    restored_from: int | None
    created_by: str
    created_at: datetime
    title: str
    size: int  # a note's text in characters; a file in bytes


class VersionView(VersionSummary):
    text: str | None = None  # notes
    note_html: str | None = None
    file: FileView | None = None  # files


class VersionPage(BaseModel):
    items: list[VersionSummary]
    next_cursor: str | None


# -- discussions: threads, replies, reactions, follows ---------------------------

PostTitle = Annotated[str, OneLine(min_length=1, max_length=200)]
PostBody = Annotated[str, MultiLine(min_length=1, max_length=20_000)]
PostId = Annotated[str, OneLine(min_length=1, max_length=64)]
StartedKind = Literal["discussion", "question", "announcement"]


class ThreadCreate(Strict):
    kind: StartedKind
    title: PostTitle
    body: PostBody
    # Questions only (the safe space: "a question or reply anonymously").
    anonymous: Flag = False
    # Not shared with partner communities; messages carry its id and title only.
    chatham_house: Flag = False


class ThreadUpdate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=patch_body_schema("title", "body"))

    title: PostTitle | None = None
    body: PostBody | None = None

    @model_validator(mode="after")
    def _something(self) -> ThreadUpdate:
        if not self.model_fields_set:
            raise ValueError("give a title or a body to change")
        return self

    @field_validator("title", "body")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value


class ReplyCreate(Strict):
    body: PostBody
    quotes_reply_id: PostId | None = None  # a reply of the same thread
    anonymous: Flag = False


class ReplyUpdate(Strict):
    body: PostBody


class AcceptedAnswerBody(Strict):
    reply_id: PostId


class ThreadView(BaseModel):
    id: str
    community_id: str
    kind: str
    resource_id: str | None  # a library item's comment thread
    title: str
    body_markdown: str
    body_html: str
    # None when anonymous (to everyone: moderators ask GET /v1/threads/{id}/author).
    author_id: str | None
    anonymous: bool
    author_label: str | None  # "Anonymous member" for an anonymous post
    mine: bool  # the caller wrote it (shown only to its author)
    chatham_house: bool
    locked: bool
    accepted_reply_id: str | None
    reply_count: int
    last_reply_at: datetime | None
    activity_at: datetime
    reaction_counts: dict[str, int]
    my_reactions: list[str]
    following: bool
    moderation_state: str
    created_at: datetime
    edited_at: datetime | None


class QuoteView(BaseModel):
    """Whom a reply quotes, and a short excerpt (None when the quoted reply is not shown)."""

    reply_id: str
    position: int
    author_id: str | None
    anonymous: bool
    author_label: str | None
    excerpt: str | None


class ReplyView(BaseModel):
    id: str
    thread_id: str
    community_id: str
    position: int
    body_markdown: str | None  # None when a moderator removed it
    body_html: str | None
    author_id: str | None
    anonymous: bool
    author_label: str | None
    mine: bool
    quotes: QuoteView | None
    accepted: bool
    reaction_counts: dict[str, int]
    my_reactions: list[str]
    moderation_state: str
    created_at: datetime
    edited_at: datetime | None


class PostVersion(BaseModel):
    number: int
    title: str | None  # a thread's opening post has a title
    body_markdown: str
    body_html: str
    written_at: datetime
    current: bool


class PostHistory(BaseModel):
    versions: list[PostVersion]  # oldest first; the last is the current text


class ReactionsView(BaseModel):
    reaction_counts: dict[str, int]
    my_reactions: list[str]


class FollowView(BaseModel):
    following: bool


class PostAuthor(BaseModel):
    """For the community's owners and facilitators only (moderation)."""

    author_id: str
    anonymous: bool


# -- curation and collections (api/curation.py, api/collections.py) ------------------------

MAX_COLLECTION_ITEMS = 500

CollectionTitle = Annotated[str, OneLine(min_length=1, max_length=200)]
CollectionDescription = Annotated[str, MultiLine(max_length=2_000)]
ItemId = Annotated[str, OneLine(min_length=1, max_length=64)]


class ReviewByBody(Strict):
    review_by: Instant


class CurationView(BaseModel):
    """A library item's curation: review status and date, endorsement, useful marks."""

    resource_id: str
    community_id: str
    status: str
    review_by: datetime | None
    review_due: bool  # its review-by date has come (facilitators are told once per date)
    endorsed: EndorsementView | None
    useful_count: int
    marked_useful_by_me: bool


class CollectionCreate(Strict):
    title: CollectionTitle
    description: CollectionDescription = ""


class CollectionPatch(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=patch_body_schema())

    title: CollectionTitle | None = None
    description: CollectionDescription | None = None  # "" clears it

    @model_validator(mode="after")
    def _something(self) -> CollectionPatch:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    @field_validator("title", "description")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Runs only for fields the caller sent, so the error names the field.
        if value is None:
            raise ValueError("cannot be null")
        return value


class CollectionItemsBody(Strict):
    # The whole ordered list: it replaces the collection's items.
    resource_ids: Annotated[list[ItemId], Field(max_length=MAX_COLLECTION_ITEMS)]


class CollectionSummary(BaseModel):
    id: str
    community_id: str
    title: str
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime


class CollectionView(CollectionSummary):
    # In the collection's order, only those the caller may see.
    items: list[ResourceView]


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
