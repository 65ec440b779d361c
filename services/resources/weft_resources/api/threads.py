"""Threads: a community's discussions, questions and announcements, and library items'
comment threads; their edits, accepted answers, reactions and follows."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from weft_resources.api.deps import CommunityId, Ctx, CurrentPerson, Cursor, Limit, ResourceId, ThreadId
from weft_resources.domain.discussions import Reaction
from weft_resources.schemas import (
    AcceptedAnswerBody,
    FollowView,
    PostAuthor,
    PostHistory,
    ReactionsView,
    ReplyCreate,
    ReplyView,
    ThreadCreate,
    ThreadUpdate,
    ThreadView,
)
from weft_resources.usecases import replies, threads
from weft_shared.service.models import Page

router = APIRouter(prefix="/v1", tags=["discussions"])

ListedKind = Annotated[Literal["discussion", "question", "announcement"] | None, Query()]


@router.post("/communities/{community_id}/threads", status_code=status.HTTP_201_CREATED)
async def post_thread(ctx: Ctx, me: CurrentPerson, community_id: CommunityId, body: ThreadCreate) -> ThreadView:
    """Start a thread (members; announcements: owners and facilitators). Only a question may be anonymous."""
    return await threads.start(ctx, me, community_id, body)


@router.get("/communities/{community_id}/threads")
async def list_threads(
    ctx: Ctx, me: CurrentPerson, community_id: CommunityId, kind: ListedKind = None, cursor: Cursor = None,
    limit: Limit = 20,
) -> Page[ThreadView]:  # fmt: skip
    """Newest activity first (a reply counts as activity)."""
    return await threads.community_threads(ctx, me, community_id, kind, cursor, limit)


@router.get("/threads/{thread_id}")
async def get_thread(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId) -> ThreadView:
    return await threads.read(ctx, me, thread_id)


@router.patch("/threads/{thread_id}")
async def patch_thread(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId, body: ThreadUpdate) -> ThreadView:
    """The author changes the title or the opening post; the earlier text is kept."""
    return await threads.edit(ctx, me, thread_id, body)


@router.get("/threads/{thread_id}/history")
async def get_thread_history(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId) -> PostHistory:
    """Every text the opening post has had (the author and the community's moderators)."""
    return await threads.history(ctx, me, thread_id)


@router.get("/threads/{thread_id}/author")
async def get_thread_author(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId) -> PostAuthor:
    """Who wrote it, also when anonymous: the community's owners and facilitators only."""
    return await threads.author(ctx, me, thread_id)


@router.put("/threads/{thread_id}/accepted-answer")
async def put_accepted_answer(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId, body: AcceptedAnswerBody) -> ThreadView:
    """A question's asker (also when anonymous) or a moderator marks a reply the accepted answer."""
    return await threads.accept_answer(ctx, me, thread_id, body.reply_id)


@router.delete("/threads/{thread_id}/accepted-answer")
async def delete_accepted_answer(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId) -> ThreadView:
    return await threads.accept_answer(ctx, me, thread_id, None)


@router.put("/threads/{thread_id}/reactions/{emoji}")
async def put_thread_reaction(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId, emoji: Reaction) -> ReactionsView:
    """One of each emoji per person; repeating it changes nothing."""
    return await threads.react(ctx, me, thread_id, emoji, on=True)


@router.delete("/threads/{thread_id}/reactions/{emoji}")
async def delete_thread_reaction(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId, emoji: Reaction) -> ReactionsView:
    return await threads.react(ctx, me, thread_id, emoji, on=False)


@router.put("/threads/{thread_id}/follow")
async def put_follow(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId) -> FollowView:
    """Be told of replies (starting a thread or replying follows it already)."""
    return await threads.follow(ctx, me, thread_id, on=True)


@router.delete("/threads/{thread_id}/follow")
async def delete_follow(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId) -> FollowView:
    return await threads.follow(ctx, me, thread_id, on=False)


@router.get("/resources/{resource_id}/comments")
async def get_comments(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId) -> ThreadView:
    """The item's comment thread (its `id` takes the thread routes: replies, reactions, follow)."""
    return await threads.comment_thread(ctx, me, resource_id)


@router.post("/resources/{resource_id}/comments", status_code=status.HTTP_201_CREATED)
async def post_comment(ctx: Ctx, me: CurrentPerson, resource_id: ResourceId, body: ReplyCreate) -> ReplyView:
    """A comment: a reply in the item's comment thread (members of the item's community)."""
    return await replies.comment(ctx, me, resource_id, body)
