"""Replies: posting (in order, quoting another reply of the thread), a thread's pages,
editing (the earlier text kept), reactions, and the author of an anonymous reply
(for moderators). A reply and the thread's counters commit together."""

from __future__ import annotations

from weft_resources.domain.discussions import (
    ANONYMOUS_LABEL,
    Reaction,
    excerpt,
    may_see_history,
    moderation_state,
    shown_author,
)
from weft_resources.domain.documents import Doc
from weft_resources.domain.markdown import render_off_loop
from weft_resources.domain.standing import Standing, moderated_out
from weft_resources.messages import reply_facts, thread_facts
from weft_resources.schemas import PostAuthor, PostHistory, QuoteView, ReactionsView, ReplyCreate, ReplyView
from weft_resources.usecases.access import announce
from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.threads import (
    actable_thread,
    aggregate,
    comments_of,
    counts,
    history_of,
    open_for_posts,
    sealed_for,
    toggle_reaction,
    unprocessable,
    visible_thread,
)
from weft_shared.contracts.envelope import new_message_id
from weft_shared.contracts.resources import ReplyEdited, ReplyPosted
from weft_shared.errors import Conflict, Forbidden, NotFound
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction

NO_SUCH_REPLY = "no such reply"


def removed(reply: Doc) -> bool:
    return moderation_state(reply) == "removed"


def quote_view(quoted: Doc | None, standing: Standing) -> QuoteView | None:
    if quoted is None:
        return None
    shown = not moderated_out(quoted, standing)
    return QuoteView(
        reply_id=quoted["_id"],
        position=quoted["position"],
        author_id=shown_author(quoted) if shown else None,
        anonymous=bool(quoted.get("anonymous")),
        author_label=ANONYMOUS_LABEL if quoted.get("anonymous") else None,
        excerpt=excerpt(quoted["body_markdown"]) if shown else None,
    )


def reply_view(
    reply: Doc, thread: Doc, standing: Standing, *, quoted: Doc | None, my_reactions: list[str]
) -> ReplyView:
    """A removed reply keeps its place, shown as removed by a moderator: no text, no author
    (the community's moderators still see both)."""
    blank = moderated_out(reply, standing)
    return ReplyView(
        id=reply["_id"],
        thread_id=reply["thread_id"],
        community_id=reply["community_id"],
        position=reply["position"],
        body_markdown=None if blank else reply["body_markdown"],
        body_html=None if blank else reply["body_html"],
        author_id=None if blank else shown_author(reply),
        anonymous=bool(reply.get("anonymous")),
        author_label=ANONYMOUS_LABEL if reply.get("anonymous") else None,
        mine=reply["author_id"] == standing.user_id,
        quotes=quote_view(quoted, standing),
        accepted=thread.get("accepted_reply_id") == reply["_id"],
        reaction_counts=counts(reply),
        my_reactions=my_reactions,
        moderation_state=moderation_state(reply),
        created_at=reply["created_at"],
        edited_at=reply.get("edited_at"),
    )


def listed_to(reply: Doc, standing: Standing) -> bool:
    """Hidden replies are left out for all but the community's moderators; removed ones keep their place."""
    return removed(reply) or not moderated_out(reply, standing)


async def views_of(ctx: ResourcesContext, replies: list[Doc], thread: Doc, standing: Standing) -> list[ReplyView]:
    quoted = await ctx.storage.replies.many([r["quotes_reply_id"] for r in replies if r.get("quotes_reply_id")])
    mine = await ctx.storage.post_reactions.mine(standing.user_id, [r["_id"] for r in replies])
    return [
        reply_view(
            r, thread, standing, quoted=quoted.get(r.get("quotes_reply_id") or ""), my_reactions=mine.get(r["_id"], [])
        )
        for r in replies
    ]


# -- posting and reading ------------------------------------------------------------


async def post_in(
    ctx: ResourcesContext, tx: Transaction, person: Person, thread: Doc, standing: Standing, body: ReplyCreate
) -> ReplyView:
    """Post `body` in `thread` (read in this transaction, the person's right to post checked)."""
    open_for_posts(thread)
    thread_id = thread["_id"]
    quoted = None
    if body.quotes_reply_id is not None:
        quoted = await ctx.storage.replies.get(body.quotes_reply_id)
        if quoted is None or quoted["thread_id"] != thread_id or moderated_out(quoted, standing):
            raise unprocessable("quotes_reply_id", "not a reply of this thread")
    at = now()
    counted = await ctx.storage.threads.update(
        thread_id, fields={"last_reply_at": at, "activity_at": at}, inc={"reply_count": 1}
    )
    assert counted is not None  # read in this transaction
    reply = {
        "_id": new_id(),
        "thread_id": thread_id,
        "community_id": thread["community_id"],
        "position": counted["reply_count"],
        "author_id": person.id,
        "anonymous": body.anonymous,
        "body_markdown": body.body,
        "body_html": (await render_off_loop(body.body)),
        "quotes_reply_id": body.quotes_reply_id,
        "reaction_counts": {},
        "edit_count": 0,
        "created_at": at,
        "edited_at": None,
    }
    await ctx.storage.replies.insert(reply)
    await ctx.storage.thread_follows.follow(thread_id, person.id, at=at)
    # Participants follow by posting; whoever unfollowed is not told. Never the replier.
    told = [user for user in await ctx.storage.thread_follows.followers(thread_id) if user != person.id]
    message_id = new_message_id()
    posted = ReplyPosted(
        thread=thread_facts(counted),
        reply=reply_facts(reply, counted),
        sealed_recipients=sealed_for(ctx, told, message_id),
    )
    announce(tx, aggregate(thread_id), thread["community_id"], posted, message_id=message_id)
    return reply_view(reply, counted, standing, quoted=quoted, my_reactions=[])


async def post(ctx: ResourcesContext, person: Person, thread_id: str, body: ReplyCreate) -> ReplyView:
    async def work(tx: Transaction) -> ReplyView:
        thread, sight = await actable_thread(ctx, person, thread_id)
        return await post_in(ctx, tx, person, thread, sight.standing, body)

    return await ctx.uow.run(work, one_at_a_time=aggregate(thread_id))


async def comment(ctx: ResourcesContext, person: Person, resource_id: str, body: ReplyCreate) -> ReplyView:
    """A comment on a library item: a reply in its comment thread (made if it has none)."""

    async def work(tx: Transaction) -> ReplyView:
        opened = await comments_of(ctx, person, resource_id)
        thread, sight = await actable_thread(ctx, person, opened["_id"])
        return await post_in(ctx, tx, person, thread, sight.standing, body)

    return await ctx.uow.run(work, one_at_a_time=f"comments/{resource_id}")


async def page(
    ctx: ResourcesContext, person: Person, thread_id: str, cursor: str | None, limit: int
) -> Page[ReplyView]:
    """In order (by position). Hidden replies are left out for all but moderators, so a
    page may hold fewer than `limit`; `next_cursor` goes on from the last one read."""
    key = decode_cursor(cursor, {"after": int})
    after = key["after"] if key is not None else 0
    thread, sight = await visible_thread(ctx, person, thread_id)
    found = await ctx.storage.replies.page(thread_id, after, limit=limit + 1)
    read = found[:limit]
    next_cursor = encode_cursor({"after": read[-1]["position"]}) if len(found) > limit else None
    shown = [r for r in read if listed_to(r, sight.standing)]
    return Page[ReplyView](items=await views_of(ctx, shown, thread, sight.standing), next_cursor=next_cursor)


async def visible_reply(ctx: ResourcesContext, person: Person, reply_id: str) -> tuple[Doc, Doc, Standing]:
    reply = await ctx.storage.replies.get(reply_id)
    if reply is None:
        raise NotFound(NO_SUCH_REPLY)
    try:
        thread, sight = await visible_thread(ctx, person, reply["thread_id"])
    except NotFound:
        raise NotFound(NO_SUCH_REPLY) from None
    if moderated_out(reply, sight.standing):
        raise NotFound(NO_SUCH_REPLY)
    return reply, thread, sight.standing


async def read(ctx: ResourcesContext, person: Person, reply_id: str) -> ReplyView:
    reply, thread, standing = await visible_reply(ctx, person, reply_id)
    return (await views_of(ctx, [reply], thread, standing))[0]


# -- editing and its history ------------------------------------------------------------


async def edit(ctx: ResourcesContext, person: Person, reply_id: str, text: str) -> ReplyView:
    async def work(tx: Transaction) -> ReplyView:
        reply, _, _ = await visible_reply(ctx, person, reply_id)
        if reply["author_id"] != person.id:
            raise Forbidden("only the reply's author can edit it")
        if moderation_state(reply) != "visible":  # its author may be a moderator: still no
            raise Conflict("the reply was hidden or removed by a moderator: it can no longer be edited")
        thread, sight = await actable_thread(ctx, person, reply["thread_id"])
        open_for_posts(thread)
        number = reply.get("edit_count", 0) + 1
        earlier = {"body_markdown": reply["body_markdown"], "written_at": reply.get("edited_at") or reply["created_at"]}
        await ctx.storage.post_edits.keep(reply_id, number, earlier)
        fields = {"body_markdown": text, "body_html": (await render_off_loop(text)), "edited_at": now()}
        updated = await ctx.storage.replies.update(reply_id, fields=fields, inc={"edit_count": 1})
        assert updated is not None  # read in this transaction
        edited = ReplyEdited(thread=thread_facts(thread), reply=reply_facts(updated, thread))
        announce(tx, aggregate(thread["_id"]), thread["community_id"], edited)
        return (await views_of(ctx, [updated], thread, sight.standing))[0]

    return await ctx.uow.run(work)


async def history(ctx: ResourcesContext, person: Person, reply_id: str) -> PostHistory:
    reply, _, standing = await visible_reply(ctx, person, reply_id)
    if not may_see_history(reply, standing):
        raise Forbidden("only the author and the community's moderators can read a post's history")
    return await history_of(reply, await ctx.storage.post_edits.of_post(reply_id), titled=False)


async def author(ctx: ResourcesContext, person: Person, reply_id: str) -> PostAuthor:
    reply, _, standing = await visible_reply(ctx, person, reply_id)
    if not standing.is_staff(reply["community_id"]):
        raise Forbidden("only the community's owners and facilitators can see who wrote a post")
    return PostAuthor(author_id=reply["author_id"], anonymous=bool(reply.get("anonymous")))


# -- reactions ---------------------------------------------------------------------------


async def react(ctx: ResourcesContext, person: Person, reply_id: str, emoji: Reaction, *, on: bool) -> ReactionsView:
    async def work(_tx: Transaction) -> ReactionsView:
        reply, _, _ = await visible_reply(ctx, person, reply_id)
        thread, _ = await actable_thread(ctx, person, reply["thread_id"])
        return await toggle_reaction(ctx, ctx.storage.replies, reply, person.id, emoji, on=on, thread=thread)

    return await ctx.uow.run(work)
