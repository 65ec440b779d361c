"""Moderation: reporting content, the moderators' queue, their actions, the log.

Who may:
- report: whoever may see the content and is an active member of its community, or a
  member of a community linked with it that shares resources (a partner reading a
  `partners` item or a thread can tell its community's moderators). Not someone banned
  from the content's community, and nothing in an archived community.
- see the queue and the log, and act: the content's community's owners and facilitators
  (403 for others who may see the content, 404 for those who may not).
"""

from __future__ import annotations

from dataclasses import dataclass

from weft_resources.domain.documents import Doc
from weft_resources.domain.moderation import (
    ContentKind,
    ModerationAction,
    ReportReason,
    audit_copy,
    case_key,
    is_removed,
    next_state,
    preview,
    redacted_text,
    state_of,
)
from weft_resources.domain.standing import moderated_out
from weft_resources.schemas import (
    ActionResult,
    ContentView,
    LogEntry,
    LogPage,
    ModerationStateView,
    QueuedReport,
    QueueEntry,
    QueuePage,
    ReportView,
)
from weft_resources.usecases.access import Sight, announce, known_community, require_staff, sight_of
from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.resources import (
    ContentHidden,
    ContentRef,
    ContentRemoved,
    ContentReported,
    ContentUnhidden,
    ThreadLocked,
    ThreadUnlocked,
)
from weft_shared.errors import Conflict, Forbidden, NotFound, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Transaction

NOT_FOUND = "no such content"

ANNOUNCED: dict[
    ModerationAction, type[ContentHidden | ContentUnhidden | ContentRemoved | ThreadLocked | ThreadUnlocked]
] = {
    ModerationAction.HIDE: ContentHidden,
    ModerationAction.UNHIDE: ContentUnhidden,
    ModerationAction.REMOVE: ContentRemoved,
    ModerationAction.LOCK: ThreadLocked,
    ModerationAction.UNLOCK: ThreadUnlocked,
}


@dataclass(frozen=True, slots=True)
class Located:
    """A piece of content the caller may see, and where it lives."""

    kind: ContentKind
    doc: Doc
    community_id: str
    thread_id: str | None  # a reply's thread

    @property
    def case_id(self) -> str:
        return case_key(self.kind, self.doc["_id"])

    @property
    def ref(self) -> ContentRef:
        return ContentRef(
            kind=self.kind.value, id=self.doc["_id"], community_id=self.community_id, thread_id=self.thread_id
        )

    @property
    def aggregate(self) -> str:
        """What its messages are about, so they go out in order with the content's own."""
        if self.kind is ContentKind.RESOURCE:
            return f"resources/{self.doc['_id']}"
        return f"threads/{self.thread_id or self.doc['_id']}"


async def _thread_visible(ctx: ResourcesContext, sight: Sight, thread: Doc) -> bool:
    if thread.get("kind") == "comments":
        # A library item's comment thread follows its item (and its own moderation state).
        item = await ctx.storage.moderated.get(ContentKind.RESOURCE, str(thread.get("resource_id")))
        return item is not None and await sight.can_see_resource(item) and not moderated_out(thread, sight.standing)
    return await sight.can_see_thread(thread)


async def locate(ctx: ResourcesContext, sight: Sight, kind: ContentKind, content_id: str) -> Located:
    """The content, if the caller may see it: else the same 404 as for an unknown id."""
    doc = await ctx.storage.moderated.get(kind, content_id)
    if doc is None:
        raise NotFound(NOT_FOUND)
    thread_id: str | None = None
    if kind is ContentKind.RESOURCE:
        visible = await sight.can_see_resource(doc)
    elif kind is ContentKind.THREAD:
        visible = await _thread_visible(ctx, sight, doc)
    else:
        thread_id = str(doc["thread_id"])
        thread = await ctx.storage.moderated.get(ContentKind.THREAD, thread_id)
        visible = (
            thread is not None and await _thread_visible(ctx, sight, thread) and not moderated_out(doc, sight.standing)
        )
    if not visible:
        raise NotFound(NOT_FOUND)
    return Located(kind, doc, str(doc["community_id"]), thread_id)


def content_view(content: Doc) -> ContentView:
    return ContentView(**content)


def content_doc(located: Located) -> Doc:
    """How reports, cases and log entries name the content."""
    return {
        "kind": located.kind.value,
        "id": located.doc["_id"],
        "community_id": located.community_id,
        "thread_id": located.thread_id,
    }


def moderation_view(doc: Doc) -> ModerationStateView:
    held = doc.get("moderation") or {}
    return ModerationStateView(state=state_of(doc), by=held.get("by"), at=held.get("at"), reason=held.get("reason"))


def report_view(report: Doc) -> ReportView:
    return ReportView(
        id=report["_id"],
        content=content_view(report["content"]),
        reason=ReportReason(report["reason"]),
        details=report["details"],
        state=report["state"],
        created_at=report["created_at"],
    )


# -- reporting --------------------------------------------------------------------------


async def _refuse_banned(ctx: ResourcesContext, person: Person, located: Located) -> None:
    """Someone banned from the content's community, who still sees it (a `network` item),
    is told so (403, as when they try to post there). Content they no longer see is the
    same 404 as for anyone else: a 403 would tell them which ids exist in there."""
    membership = await ctx.storage.membership.member(located.community_id, person.id)
    if membership is not None and membership.get("banned"):
        raise Forbidden("you were banned from this community: you can no longer report its content")


async def _check_may_report(ctx: ResourcesContext, sight: Sight, located: Located, person: Person) -> None:
    community_id = located.community_id
    community = await sight.community(community_id)
    if community is None or community.get("archived"):
        raise Forbidden("the community is archived: its content can no longer be reported")
    if sight.standing.is_member(community_id):
        # A removal racing with the report: one of the two retries and sees the other.
        await ctx.storage.membership.hold_member(community_id, person.id)
        return
    if community_id not in sight.standing.partner_of:
        raise Forbidden("only members of this community and of its partner communities can report its content")


async def report(
    ctx: ResourcesContext, person: Person, kind: ContentKind, content_id: str, reason: ReportReason, details: str
) -> tuple[ReportView, bool]:
    """Report content to its community's moderators. One open report per person per
    content: a repeat gives back the open one (and False). The message names the
    content, never the reporter."""

    async def work(tx: Transaction) -> tuple[ReportView, bool]:
        sight = await sight_of(ctx, person.id)
        located = await locate(ctx, sight, kind, content_id)
        await _refuse_banned(ctx, person, located)
        await _check_may_report(ctx, sight, located, person)
        if is_removed(located.doc):
            raise Conflict("this content was already removed by a moderator")
        held = await ctx.storage.reports.open_report_of(located.case_id, person.id)
        if held is not None:
            return report_view(held), False
        doc = {
            "_id": new_id(),
            "case_id": located.case_id,
            "community_id": located.community_id,
            "content": content_doc(located),
            "reporter_id": person.id,
            "reason": reason.value,
            "details": details,
            "state": "open",
            "created_at": now(),
        }
        await ctx.storage.reports.add(doc)
        announce(
            tx, located.aggregate, located.community_id, ContentReported(report_id=doc["_id"], content=located.ref)
        )
        return report_view(doc), True

    return await ctx.uow.run(work)


# -- acting -------------------------------------------------------------------------------


async def act(
    ctx: ResourcesContext,
    person: Person,
    kind: ContentKind,
    content_id: str,
    action: ModerationAction,
    reason: str | None,
) -> ActionResult:
    """One moderator action. It closes the content's open reports, writes the log and
    announces what changed, all in one transaction; a move from a state the content is
    not in (hiding hidden content, unlocking an open thread) is a 409 and changes nothing."""
    if action is ModerationAction.REMOVE and reason is None:
        raise Problem(
            "a removal needs a reason", status=422, errors=[{"field": "reason", "message": "required to remove"}]
        )

    async def work(tx: Transaction) -> ActionResult:
        sight = await sight_of(ctx, person.id)
        located = await locate(ctx, sight, kind, content_id)
        require_staff(sight, located.community_id)
        await ctx.storage.membership.hold_member(located.community_id, person.id)
        at = now()
        doc = located.doc
        state = next_state(kind, doc, action)
        removed_content: Doc | None = None
        if state is not None:
            moderation = {"state": state, "by": person.id, "at": at, "reason": reason}
            replaced: Doc = {}
            if action is ModerationAction.REMOVE:
                removed_content = audit_copy(kind, doc)
                replaced = redacted_text(kind)
            await ctx.storage.moderated.set_moderation(kind, doc["_id"], moderation, replaced)
            doc = {**doc, **replaced, "moderation": moderation}
            if kind is ContentKind.REPLY and state != "visible" and located.thread_id is not None:
                await ctx.storage.moderated.withdraw_accepted_answer(located.thread_id, doc["_id"])
        if action in (ModerationAction.LOCK, ModerationAction.UNLOCK):
            locked = action is ModerationAction.LOCK
            await ctx.storage.moderated.set_locked(doc["_id"], locked)
            doc = {**doc, "locked": locked}
        closed = await ctx.storage.reports.close_case(located.case_id, closed_by=person.id, outcome=action.value, at=at)
        if action is ModerationAction.DISMISS and not closed:
            raise Conflict("this content has no open reports to dismiss")
        entry_id = new_id()
        await ctx.storage.moderation_log.append(
            {
                "_id": entry_id,
                "community_id": located.community_id,
                "at": at,
                "moderator_id": person.id,
                "action": action.value,
                "content": content_doc(located),
                "reason": reason,
                "reports_closed": closed,
                "removed_content": removed_content,
            }
        )
        message_type = ANNOUNCED.get(action)
        if message_type is not None:
            payload: MessagePayload = message_type(content=located.ref, moderator_id=person.id)
            announce(tx, located.aggregate, located.community_id, payload)
        return ActionResult(
            content=content_view(content_doc(located)),
            action=action,
            moderation=moderation_view(doc),
            locked=bool(doc.get("locked")) if kind is ContentKind.THREAD else None,
            reports_closed=closed,
            log_entry_id=entry_id,
        )

    return await ctx.uow.run(work)


# -- the queue and the log ------------------------------------------------------------------


async def _moderators_community(ctx: ResourcesContext, person: Person, community_id: str) -> None:
    _, sight = await known_community(ctx, person, community_id)
    require_staff(sight, community_id)


async def queue(ctx: ResourcesContext, person: Person, community_id: str, cursor: str | None, limit: int) -> QueuePage:
    """Open reports grouped by content, the longest waiting first."""
    key = decode_cursor(cursor, {"after": str})

    async def work(_tx: Transaction) -> QueuePage:
        await _moderators_community(ctx, person, community_id)
        cases = await ctx.storage.reports.queue_page(community_id, after=key["after"] if key else None, limit=limit)
        page = cases[:limit]
        reports: dict[str, list[QueuedReport]] = {}
        for r in await ctx.storage.reports.open_reports_of([c["_id"] for c in page]):
            reports.setdefault(r["case_id"], []).append(
                QueuedReport(
                    id=r["_id"],
                    reporter_id=r["reporter_id"],
                    reason=ReportReason(r["reason"]),
                    details=r["details"],
                    created_at=r["created_at"],
                )
            )
        contents: dict[str, Doc] = {}
        for kind in ContentKind:
            ids = [c["content"]["id"] for c in page if c["content"]["kind"] == kind.value]
            for doc in await ctx.storage.moderated.many(kind, ids):
                contents[case_key(kind, doc["_id"])] = doc
        items = []
        for case in page:
            kind = ContentKind(case["content"]["kind"])
            doc = contents.get(case["_id"], {})
            items.append(
                QueueEntry(
                    content=content_view(case["content"]),
                    preview=preview(kind, doc),
                    moderation=moderation_view(doc),
                    locked=bool(doc.get("locked")) if kind is ContentKind.THREAD else None,
                    open_reports=case["open_reports"],
                    reasons=case["reasons"],
                    first_reported_at=case["first_reported_at"],
                    last_reported_at=case["last_reported_at"],
                    reports=reports.get(case["_id"], []),
                )
            )
        more = len(cases) > limit and page
        next_cursor = encode_cursor({"after": page[-1]["queue_key"]}) if more else None
        return QueuePage(items=items, next_cursor=next_cursor)

    return await ctx.uow.run(work)


async def log(ctx: ResourcesContext, person: Person, community_id: str, cursor: str | None, limit: int) -> LogPage:
    """The community's moderation log, newest first."""
    key = decode_cursor(cursor, {"before": str})

    async def work(_tx: Transaction) -> LogPage:
        await _moderators_community(ctx, person, community_id)
        entries = await ctx.storage.moderation_log.page(
            community_id, before=key["before"] if key else None, limit=limit
        )
        page = entries[:limit]
        items = [
            LogEntry(
                id=e["_id"],
                at=e["at"],
                moderator_id=e["moderator_id"],
                action=ModerationAction(e["action"]),
                content=content_view(e["content"]),
                reason=e.get("reason"),
                reports_closed=e["reports_closed"],
                removed_content=e.get("removed_content"),
            )
            for e in page
        ]
        next_cursor = encode_cursor({"before": page[-1]["log_key"]}) if len(entries) > limit and page else None
        return LogPage(items=items, next_cursor=next_cursor)

    return await ctx.uow.run(work)
