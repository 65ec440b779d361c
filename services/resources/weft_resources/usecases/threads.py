"""Threads: starting one, a community's list, reading, editing (the earlier text kept),
the accepted answer, reactions, following, the author of an anonymous post (for
moderators), and library items' comment threads (made on first read or comment).

Who sees a thread is `Sight.can_see_thread` (a comment thread: `Sight.can_see_resource`
of its item); whoever may not see it gets the 404 of an unknown id. Acting on it (post,
edit, react, follow, accept) needs an active membership of its community
(`posting_community`), which the transaction holds against a racing removal.
"""

from __future__ import annotations

from datetime import datetime

from weft_resources.domain.discussions import (
    ANONYMOUS_LABEL,
    Reaction,
    ThreadKind,
    actor_on_bus,
    may_accept_answer,
    may_see_history,
    may_start,
    may_start_anonymously,
    moderation_state,
    shown_author,
)
from weft_resources.domain.documents import Doc
from weft_resources.domain.markdown import render_off_loop
from weft_resources.domain.standing import moderated_out
from weft_resources.messages import reply_facts, thread_facts
from weft_resources.schemas import (
    FollowView,
    PostAuthor,
    PostHistory,
    PostVersion,
    ReactionsView,
    ThreadCreate,
    ThreadUpdate,
    ThreadView,
)
from weft_resources.storage.posts import Posts
from weft_resources.storage.threads import comments_thread_id
from weft_resources.usecases.access import Sight, announce, known_community, posting_community, sight_of
from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.envelope import new_message_id
from weft_shared.contracts.resources import AnswerAccepted, ThreadEdited, ThreadPosted
from weft_shared.errors import Conflict, Forbidden, NotFound, Problem
from weft_shared.messaging.sealed import seal
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction

NO_SUCH_THREAD = "no such thread"


def unprocessable(field: str, message: str) -> Problem:
    return Problem(message, status=422, errors=[{"field": field, "message": message}])


def aggregate(thread_id: str) -> str:
    return f"threads/{thread_id}"


# -- seeing and acting ------------------------------------------------------------


async def can_see(ctx: ResourcesContext, sight: Sight, thread: Doc) -> bool:
    if thread["kind"] != ThreadKind.COMMENTS:
        return await sight.can_see_thread(thread)
    item = await ctx.storage.items.get(thread["resource_id"])
    return item is not None and not moderated_out(thread, sight.standing) and await sight.can_see_resource(item)


async def visible_thread(ctx: ResourcesContext, person: Person, thread_id: str) -> tuple[Doc, Sight]:
    thread = await ctx.storage.threads.get(thread_id)
    sight = await sight_of(ctx, person.id)
    if thread is None or not await can_see(ctx, sight, thread):
        raise NotFound(NO_SUCH_THREAD)
    return thread, sight


async def actable_thread(ctx: ResourcesContext, person: Person, thread_id: str) -> tuple[Doc, Sight]:
    """A thread the person sees and may act in (an active member of its community). A thread
    they may not see is the same 404 for everyone, a banned ex-member too: a 403 would tell
    them which thread ids exist (a Chatham House or a hidden one)."""
    thread, _ = await visible_thread(ctx, person, thread_id)
    _, sight = await posting_community(ctx, person, thread["community_id"])
    return thread, sight


def sealed_for(ctx: ResourcesContext, user_ids: list[str], message_id: str) -> str | None:
    """Whom a notice should reach, sealed for the notifications service: the bus never
    names them (an anonymous asker among them), and the list opens only in this message."""
    if not user_ids:
        return None
    return seal(user_ids, ctx.settings.platform.sealing_key(), message_id)


def open_for_posts(thread: Doc) -> None:
    if thread.get("locked"):
        raise Conflict("the thread is locked: nothing new can be posted in it")
    if moderation_state(thread) != "visible":
        raise Conflict("the thread was hidden or removed by a moderator: nothing new can be posted in it")


# -- views ------------------------------------------------------------------------


def counts(doc: Doc) -> dict[str, int]:
    return {emoji: n for emoji, n in sorted((doc.get("reaction_counts") or {}).items()) if n > 0}


def thread_view(thread: Doc, user_id: str, *, my_reactions: list[str], following: bool) -> ThreadView:
    return ThreadView(
        id=thread["_id"],
        community_id=thread["community_id"],
        kind=thread["kind"],
        resource_id=thread.get("resource_id"),
        title=thread["title"],
        body_markdown=thread["body_markdown"],
        body_html=thread["body_html"],
        author_id=shown_author(thread),
        anonymous=bool(thread.get("anonymous")),
        author_label=ANONYMOUS_LABEL if thread.get("anonymous") else None,
        mine=thread["author_id"] == user_id,
        chatham_house=bool(thread.get("chatham_house")),
        locked=bool(thread.get("locked")),
        accepted_reply_id=thread.get("accepted_reply_id"),
        reply_count=thread.get("reply_count", 0),
        last_reply_at=thread.get("last_reply_at"),
        activity_at=thread["activity_at"],
        reaction_counts=counts(thread),
        my_reactions=my_reactions,
        following=following,
        moderation_state=moderation_state(thread),
        created_at=thread["created_at"],
        edited_at=thread.get("edited_at"),
    )


async def view_of(ctx: ResourcesContext, thread: Doc, user_id: str) -> ThreadView:
    mine = await ctx.storage.post_reactions.mine(user_id, [thread["_id"]])
    following = await ctx.storage.thread_follows.follows(thread["_id"], user_id)
    return thread_view(thread, user_id, my_reactions=mine.get(thread["_id"], []), following=following)


# -- starting, listing, reading -----------------------------------------------------


def new_thread(
    community_id: str, author_id: str, kind: ThreadKind, title: str, body: str, body_html: str, at: datetime
) -> Doc:
    return {
        "_id": new_id(),
        "community_id": community_id,
        "kind": kind.value,
        "listed": kind is not ThreadKind.COMMENTS,
        "resource_id": None,
        "title": title,
        "body_markdown": body,
        "body_html": body_html,
        "author_id": author_id,
        "anonymous": False,
        "chatham_house": False,
        "locked": False,
        "accepted_reply_id": None,
        "reply_count": 0,
        "last_reply_at": None,
        "activity_at": at,
        "reaction_counts": {},
        "edit_count": 0,
        "created_at": at,
        "edited_at": None,
    }


async def start(ctx: ResourcesContext, person: Person, community_id: str, body: ThreadCreate) -> ThreadView:
    kind = ThreadKind(body.kind)
    if body.anonymous and not may_start_anonymously(kind):
        raise unprocessable("anonymous", "only a question can be asked anonymously")

    async def work(tx: Transaction) -> ThreadView:
        _, sight = await posting_community(ctx, person, community_id)
        if not may_start(kind, sight.standing, community_id):
            raise Forbidden("only the community's owners and facilitators can post announcements")
        html = await render_off_loop(body.body) if body.body else ""
        thread = new_thread(community_id, person.id, kind, body.title, body.body, html, now())
        thread.update(anonymous=body.anonymous, chatham_house=body.chatham_house)
        await ctx.storage.threads.insert(thread)
        await ctx.storage.thread_follows.follow(thread["_id"], person.id, at=thread["created_at"])
        announce(tx, aggregate(thread["_id"]), community_id, ThreadPosted(thread=thread_facts(thread)))
        return thread_view(thread, person.id, my_reactions=[], following=True)

    return await ctx.uow.run(work)


def encode_activity_cursor(thread: Doc) -> str:
    return encode_cursor({"at": thread["activity_at"], "id": thread["_id"]})


def decode_activity_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    key = decode_cursor(cursor, {"at": datetime, "id": str})
    return (key["at"], key["id"]) if key is not None else None


async def community_threads(
    ctx: ResourcesContext, person: Person, community_id: str, kind: str | None, cursor: str | None, limit: int
) -> Page[ThreadView]:
    """Newest activity first: up to `limit` threads the caller may see, read on past the ones
    hidden from them, and `next_cursor` at the last one shown (a cursor at a thread the caller
    may not see would name it, and when it was active)."""
    after = decode_activity_cursor(cursor)
    _, sight = await known_community(ctx, person, community_id)
    if not (sight.standing.is_member(community_id) or community_id in sight.standing.partner_of):
        raise Forbidden("only the community's members and its partner communities' members can read its threads")
    shown: list[Doc] = []
    more = False
    while True:
        found = await ctx.storage.threads.page(community_id, kind, after, limit=limit + 1)
        for thread in found[:limit]:
            if len(shown) == limit:
                more = True
                break
            if await sight.can_see_thread(thread):
                shown.append(thread)
        if more or len(found) <= limit:
            more = more or (len(found) > limit and len(shown) == limit)
            break
        last = found[limit - 1]
        after = (last["activity_at"], last["_id"])
    next_cursor = encode_activity_cursor(shown[-1]) if more and shown else None
    ids = [t["_id"] for t in shown]
    mine = await ctx.storage.post_reactions.mine(person.id, ids)
    following = await ctx.storage.thread_follows.following_of(person.id, ids)
    items = [
        thread_view(t, person.id, my_reactions=mine.get(t["_id"], []), following=t["_id"] in following) for t in shown
    ]
    return Page[ThreadView](items=items, next_cursor=next_cursor)


async def read(ctx: ResourcesContext, person: Person, thread_id: str) -> ThreadView:
    thread, _ = await visible_thread(ctx, person, thread_id)
    return await view_of(ctx, thread, person.id)


# -- editing and its history ----------------------------------------------------------


async def edit(ctx: ResourcesContext, person: Person, thread_id: str, body: ThreadUpdate) -> ThreadView:
    async def work(tx: Transaction) -> ThreadView:
        thread, _ = await actable_thread(ctx, person, thread_id)
        if thread["author_id"] != person.id:
            raise Forbidden("only the thread's author can edit it")
        if thread["kind"] == ThreadKind.COMMENTS:
            raise Forbidden("a library item's comment thread has no opening post to edit")
        open_for_posts(thread)
        at = now()
        number = thread.get("edit_count", 0) + 1
        earlier = {
            "title": thread["title"],
            "body_markdown": thread["body_markdown"],
            "written_at": thread.get("edited_at") or thread["created_at"],
        }
        await ctx.storage.post_edits.keep(thread_id, number, earlier)
        fields: Doc = {"edited_at": at}
        if body.title is not None:
            fields["title"] = body.title
        if body.body is not None:
            fields.update(body_markdown=body.body, body_html=(await render_off_loop(body.body)))
        updated = await ctx.storage.threads.update(thread_id, fields=fields, inc={"edit_count": 1})
        assert updated is not None  # read in this transaction
        edited = ThreadEdited(thread=thread_facts(updated), edited_by=actor_on_bus(person.id, updated))
        announce(tx, aggregate(thread_id), updated["community_id"], edited)
        return await view_of(ctx, updated, person.id)

    return await ctx.uow.run(work, one_at_a_time=aggregate(thread_id))


async def history_of(post: Doc, earlier: list[Doc], *, titled: bool) -> PostHistory:
    versions = [
        PostVersion(
            number=e["number"],
            title=e.get("title") if titled else None,
            body_markdown=e["body_markdown"],
            body_html=(await render_off_loop(e["body_markdown"])),
            written_at=e["written_at"],
            current=False,
        )
        for e in earlier
    ]
    versions.append(
        PostVersion(
            number=post.get("edit_count", 0) + 1,
            title=post["title"] if titled else None,
            body_markdown=post["body_markdown"],
            body_html=post["body_html"],
            written_at=post.get("edited_at") or post["created_at"],
            current=True,
        )
    )
    return PostHistory(versions=versions)


async def history(ctx: ResourcesContext, person: Person, thread_id: str) -> PostHistory:
    thread, sight = await visible_thread(ctx, person, thread_id)
    if not may_see_history(thread, sight.standing):
        raise Forbidden("only the author and the community's moderators can read a post's history")
    return await history_of(thread, await ctx.storage.post_edits.of_post(thread_id), titled=True)


async def author(ctx: ResourcesContext, person: Person, thread_id: str) -> PostAuthor:
    thread, sight = await visible_thread(ctx, person, thread_id)
    if not sight.standing.is_staff(thread["community_id"]):
        raise Forbidden("only the community's owners and facilitators can see who wrote a post")
    return PostAuthor(author_id=thread["author_id"], anonymous=bool(thread.get("anonymous")))


# -- the accepted answer ----------------------------------------------------------------


async def accept_answer(ctx: ResourcesContext, person: Person, thread_id: str, reply_id: str | None) -> ThreadView:
    """Mark `reply_id` the accepted answer (None: no accepted answer). The asker (the stored
    author, also when anonymous) or a moderator; question threads only."""

    async def work(tx: Transaction) -> ThreadView:
        thread, sight = await actable_thread(ctx, person, thread_id)
        if thread["kind"] != ThreadKind.QUESTION:
            raise Conflict("only a question has an accepted answer")
        if not may_accept_answer(thread, sight.standing):
            raise Forbidden("only the asker and the community's moderators can choose the accepted answer")
        if thread.get("accepted_reply_id") == reply_id:
            return await view_of(ctx, thread, person.id)
        reply = None
        if reply_id is not None:
            reply = await ctx.storage.replies.get(reply_id)
            if reply is None or reply["thread_id"] != thread_id or moderated_out(reply, sight.standing):
                raise unprocessable("reply_id", "not a reply of this thread")
        updated = await ctx.storage.threads.update(thread_id, fields={"accepted_reply_id": reply_id})
        assert updated is not None  # read in this transaction
        if reply is not None:
            message_id = new_message_id()
            told = [reply["author_id"]] if reply["author_id"] != person.id else []
            accepted = AnswerAccepted(
                thread=thread_facts(updated),
                reply=reply_facts(reply, updated),
                accepted_by=actor_on_bus(person.id, updated),
                sealed_recipients=sealed_for(ctx, told, message_id),
            )
            announce(tx, aggregate(thread_id), updated["community_id"], accepted, message_id=message_id)
        return await view_of(ctx, updated, person.id)

    return await ctx.uow.run(work, one_at_a_time=aggregate(thread_id))


# -- reactions and follows ----------------------------------------------------------------


async def toggle_reaction(
    ctx: ResourcesContext, posts: Posts, post: Doc, person_id: str, emoji: Reaction, *, on: bool, thread: Doc
) -> ReactionsView:
    """Add (`on`) or take back a person's `emoji` on `post` (a thread or a reply of `thread`,
    both read in the caller's transaction), its count beside it; the post's reactions as
    they are afterwards."""
    post_id = post["_id"]
    reactions = ctx.storage.post_reactions
    if on:
        open_for_posts(thread)  # a locked thread takes no new reactions either (taking one back is fine)
        changed = await reactions.add(post_id, person_id, emoji.value, at=now())
    else:
        changed = await reactions.remove(post_id, person_id, emoji.value)
    if changed:
        updated = await posts.update(post_id, inc={f"reaction_counts.{emoji.value}": 1 if on else -1})
        assert updated is not None  # read in this transaction
        post = updated
    mine = await reactions.mine(person_id, [post_id])
    return ReactionsView(reaction_counts=counts(post), my_reactions=mine.get(post_id, []))


async def react(ctx: ResourcesContext, person: Person, thread_id: str, emoji: Reaction, *, on: bool) -> ReactionsView:
    async def work(_tx: Transaction) -> ReactionsView:
        thread, _ = await actable_thread(ctx, person, thread_id)
        return await toggle_reaction(ctx, ctx.storage.threads, thread, person.id, emoji, on=on, thread=thread)

    return await ctx.uow.run(work, one_at_a_time=aggregate(thread_id))


async def follow(ctx: ResourcesContext, person: Person, thread_id: str, *, on: bool) -> FollowView:
    async def work(_tx: Transaction) -> FollowView:
        await actable_thread(ctx, person, thread_id)
        if on:
            await ctx.storage.thread_follows.follow(thread_id, person.id, at=now())
        else:
            await ctx.storage.thread_follows.unfollow(thread_id, person.id)
        return FollowView(following=on)

    return await ctx.uow.run(work)


# -- library items' comment threads ----------------------------------------------------------


async def comments_of(ctx: ResourcesContext, person: Person, resource_id: str) -> Doc:
    """The item's comment thread, made on the first read or comment (in the caller's
    transaction). 404 for an item the person may not see."""
    item = await ctx.storage.items.get(resource_id)
    sight = await sight_of(ctx, person.id)
    if item is None or not await sight.can_see_resource(item):
        raise NotFound("no such resource")
    thread_id = comments_thread_id(resource_id)
    held = await ctx.storage.threads.get(thread_id)
    if held is not None:
        return held
    thread = new_thread(item["community_id"], item["created_by"], ThreadKind.COMMENTS, item["title"], "", "", now())
    thread.update(_id=thread_id, resource_id=resource_id)
    opened = await ctx.storage.threads.open_comments(thread)
    await ctx.storage.items.update(resource_id, fields={"comment_thread_id": thread_id})
    return opened


async def comment_thread(ctx: ResourcesContext, person: Person, resource_id: str) -> ThreadView:
    async def work(_tx: Transaction) -> ThreadView:
        thread = await comments_of(ctx, person, resource_id)
        sight = await sight_of(ctx, person.id)
        if moderated_out(thread, sight.standing):
            raise NotFound("no such resource")
        return await view_of(ctx, thread, person.id)

    return await ctx.uow.run(work)
