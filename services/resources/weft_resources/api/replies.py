"""Replies in a thread: posting (quoting another reply), its pages, edits and reactions."""

from __future__ import annotations

from fastapi import APIRouter, status

from weft_resources.api.deps import Ctx, CurrentPerson, Cursor, Limit, ReplyId, ThreadId
from weft_resources.domain.discussions import Reaction
from weft_resources.schemas import PostAuthor, PostHistory, ReactionsView, ReplyCreate, ReplyUpdate, ReplyView
from weft_resources.usecases import replies
from weft_shared.service.models import Page

router = APIRouter(prefix="/v1", tags=["discussions"])


@router.post("/threads/{thread_id}/replies", status_code=status.HTTP_201_CREATED)
async def post_reply(ctx: Ctx, me: CurrentPerson, thread_id: ThreadId, body: ReplyCreate) -> ReplyView:
    """Members of the thread's community; 409 in a locked thread."""
    return await replies.post(ctx, me, thread_id, body)


@router.get("/threads/{thread_id}/replies")
async def list_replies(
    ctx: Ctx, me: CurrentPerson, thread_id: ThreadId, cursor: Cursor = None, limit: Limit = 50
) -> Page[ReplyView]:
    """In order; each reply says whom it quotes, with a short excerpt."""
    return await replies.page(ctx, me, thread_id, cursor, limit)


@router.get("/replies/{reply_id}")
async def get_reply(ctx: Ctx, me: CurrentPerson, reply_id: ReplyId) -> ReplyView:
    return await replies.read(ctx, me, reply_id)


@router.patch("/replies/{reply_id}")
async def patch_reply(ctx: Ctx, me: CurrentPerson, reply_id: ReplyId, body: ReplyUpdate) -> ReplyView:
    """The author changes the text; the earlier text is kept."""
    return await replies.edit(ctx, me, reply_id, body.body)


@router.get("/replies/{reply_id}/history")
async def get_reply_history(ctx: Ctx, me: CurrentPerson, reply_id: ReplyId) -> PostHistory:
    return await replies.history(ctx, me, reply_id)


@router.get("/replies/{reply_id}/author")
async def get_reply_author(ctx: Ctx, me: CurrentPerson, reply_id: ReplyId) -> PostAuthor:
    """Who wrote it, also when anonymous: the community's owners and facilitators only."""
    return await replies.author(ctx, me, reply_id)


@router.put("/replies/{reply_id}/reactions/{emoji}")
async def put_reply_reaction(ctx: Ctx, me: CurrentPerson, reply_id: ReplyId, emoji: Reaction) -> ReactionsView:
    return await replies.react(ctx, me, reply_id, emoji, on=True)


@router.delete("/replies/{reply_id}/reactions/{emoji}")
async def delete_reply_reaction(ctx: Ctx, me: CurrentPerson, reply_id: ReplyId, emoji: Reaction) -> ReactionsView:
    return await replies.react(ctx, me, reply_id, emoji, on=False)
