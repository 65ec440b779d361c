"""Messages the resources service publishes: the library (resource.*), discussions
(discussion.*) and their moderation (moderation.*).

What never goes on the bus, because the bus is read by many systems (webhooks, the
stream, integrators):
- the author of an anonymous post: `author_id` is None and `anonymous` is True;
- anything of a Chatham House thread but its id and title (and where it lives);
- the text of notes, posts and files (consumers that need it ask the API, which
  applies the visibility rules), and who reported something (a reporter's safety).

People a notice should reach but whom the message may not name (the anonymous
asker of a question, told of a reply) travel in `sealed_recipients`: a list of
user ids encrypted for the notifications service (weft_shared.messaging.sealed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from weft_shared.contracts.base import MessagePayload, message

ResourceKind = Literal["file", "link", "note"]
ResourceVisibility = Literal["community", "partners", "network"]
ReviewStatus = Literal["draft", "published", "archived"]
ThreadKind = Literal["discussion", "question", "announcement", "comments"]
ContentKind = Literal["resource", "thread", "reply"]


class FileFacts(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str


class ResourceSnapshot(BaseModel):
    """A library item as the bus sees it: its catalogue facts, never its text."""

    id: str
    community_id: str
    kind: ResourceKind
    title: str
    summary: str
    tags: list[str]
    authors: list[str]
    licence: str | None
    source: str | None
    visibility: ResourceVisibility
    status: ReviewStatus
    endorsed: bool
    review_by: datetime | None
    version: int
    url: str | None  # a link's target
    file: FileFacts | None  # the current version's file
    shared_with: list[str]  # linked communities it was explicitly shared with
    created_by: str


@message("org.weft.resource.created.v1", "A library item was created (as a draft or published).")
class ResourceCreated(MessagePayload):
    resource: ResourceSnapshot
    created_by: str


@message("org.weft.resource.published.v1", "A library item was published: members (and partners) can see it.")
class ResourcePublished(MessagePayload):
    resource: ResourceSnapshot
    published_by: str


@message("org.weft.resource.updated.v1", "A library item's details changed; `changed` names the fields.")
class ResourceUpdated(MessagePayload):
    resource: ResourceSnapshot
    changed: list[str]
    updated_by: str


@message("org.weft.resource.archived.v1", "A library item was archived: kept, but out of the library's lists.")
class ResourceArchived(MessagePayload):
    resource: ResourceSnapshot
    archived_by: str


@message("org.weft.resource.endorsed.v1", "A facilitator endorsed a library item (recommended).")
class ResourceEndorsed(MessagePayload):
    resource: ResourceSnapshot
    endorsed_by: str


@message("org.weft.resource.endorsement_withdrawn.v1", "A library item is no longer endorsed.")
class ResourceEndorsementWithdrawn(MessagePayload):
    resource: ResourceSnapshot
    withdrawn_by: str


@message("org.weft.resource.version_added.v1", "A new version of a note's text or of a file (or a restore).")
class ResourceVersionAdded(MessagePayload):
    resource: ResourceSnapshot
    version: int
    restored_from: int | None  # the version restored, for a restore
    added_by: str


@message("org.weft.resource.shared.v1", "A library item was shared with a linked community.")
class ResourceShared(MessagePayload):
    resource: ResourceSnapshot
    shared_with: str
    shared_by: str


@message("org.weft.resource.unshared.v1", "A library item is no longer shared with a linked community.")
class ResourceUnshared(MessagePayload):
    resource: ResourceSnapshot
    unshared_from: str
    unshared_by: str


@message(
    "org.weft.resource.review_due.v1",
    "A library item's review-by date has come: its community's facilitators should review it (once per date).",
)
class ResourceReviewDue(MessagePayload):
    resource: ResourceSnapshot
    review_by: datetime


class ThreadFacts(BaseModel):
    """A thread as the bus sees it. For a Chatham House thread only `id`, `community_id`,
    `kind`, `title` and `chatham_house` are set; `author_id` is None for an anonymous one."""

    id: str
    community_id: str
    kind: ThreadKind
    title: str
    chatham_house: bool
    anonymous: bool = False
    author_id: str | None = None
    resource_id: str | None = None  # the library item a `comments` thread belongs to


class ReplyFacts(BaseModel):
    id: str
    thread_id: str
    community_id: str
    anonymous: bool
    author_id: str | None  # None when anonymous (and in a Chatham House thread)
    quotes_reply_id: str | None = None


@message("org.weft.discussion.thread_posted.v1", "A thread was started (an announcement tells every member).")
class ThreadPosted(MessagePayload):
    thread: ThreadFacts
    sealed_recipients: str | None = None


@message("org.weft.discussion.thread_edited.v1", "A thread's title or opening post was edited.")
class ThreadEdited(MessagePayload):
    thread: ThreadFacts
    edited_by: str | None  # None when the thread is anonymous and its author edited it


@message("org.weft.discussion.reply_posted.v1", "A reply was posted in a thread.")
class ReplyPosted(MessagePayload):
    thread: ThreadFacts
    reply: ReplyFacts
    # The thread's participants and followers to tell (never the replier), sealed.
    sealed_recipients: str | None = None


@message("org.weft.discussion.reply_edited.v1", "A reply was edited (its history keeps the earlier text).")
class ReplyEdited(MessagePayload):
    thread: ThreadFacts
    reply: ReplyFacts


@message("org.weft.discussion.answer_accepted.v1", "A reply was marked the accepted answer to a question.")
class AnswerAccepted(MessagePayload):
    thread: ThreadFacts
    reply: ReplyFacts
    accepted_by: str | None  # None when the question is anonymous and its asker accepted
    # The answer's author, sealed (an anonymous answer's author is never named).
    sealed_recipients: str | None = None


class ContentRef(BaseModel):
    kind: ContentKind
    id: str
    community_id: str
    thread_id: str | None = None  # for a reply


@message("org.weft.moderation.reported.v1", "Someone reported content to the community's moderators.")
class ContentReported(MessagePayload):
    report_id: str
    content: ContentRef
    # Who reported is never on the bus; the moderation queue shows it to moderators.


@message("org.weft.moderation.hidden.v1", "A moderator hid content (members no longer see it).")
class ContentHidden(MessagePayload):
    content: ContentRef
    moderator_id: str


@message("org.weft.moderation.unhidden.v1", "A moderator made hidden content visible again.")
class ContentUnhidden(MessagePayload):
    content: ContentRef
    moderator_id: str


@message("org.weft.moderation.removed.v1", "A moderator removed content (shown as removed by a moderator).")
class ContentRemoved(MessagePayload):
    content: ContentRef
    moderator_id: str


@message("org.weft.moderation.thread_locked.v1", "A moderator locked a thread: no more replies.")
class ThreadLocked(MessagePayload):
    content: ContentRef
    moderator_id: str


@message("org.weft.moderation.thread_unlocked.v1", "A moderator unlocked a thread.")
class ThreadUnlocked(MessagePayload):
    content: ContentRef
    moderator_id: str
