"""Request and response bodies of the resources API (strict: unknown fields and
objects-for-strings are 422s naming the field)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from weft_shared.service.models import Flag, Strict
from weft_shared.service.openapi import patch_body_schema
from weft_shared.service.text import MultiLine, OneLine

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
