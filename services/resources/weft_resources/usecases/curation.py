"""Curating library items: review status (publish, archive), review-by dates and the
review-due flag, facilitators' endorsement, members' useful marks.

Who may do what:
- publish and archive: the item's creator or its community's owners and facilitators,
  while they may post there (an active member, not banned, the community not archived);
- review-by dates and endorsement: the community's owners and facilitators;
- useful marks: anyone who may see the item, except someone banned from its community.
An item the caller may not see is the same 404 as an unknown one. A repeated call that
asks for the state the item is in changes nothing and announces nothing.
"""

from __future__ import annotations

from datetime import datetime

from weft_resources.domain.curation import (
    endorsement_key,
    require_endorsable,
    review_by_fields,
    review_claim,
    review_due_message_id,
    status_fields,
    transition,
)
from weft_resources.domain.documents import Doc
from weft_resources.messages import resource_snapshot
from weft_resources.schemas import CurationView, EndorsementView, ResourcePage
from weft_resources.usecases.access import announce, known_community, posting_community, require_staff
from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.resources import NOT_FOUND, editable_resource, resource_view, visible_resource
from weft_shared.contracts.resources import (
    ResourceArchived,
    ResourceEndorsed,
    ResourceEndorsementWithdrawn,
    ResourcePublished,
    ResourceReviewDue,
    ResourceUpdated,
)
from weft_shared.errors import Conflict, Forbidden, NotFound
from weft_shared.service.actor import Person, System
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.storage.unit_of_work import Transaction


def _aggregate(item: Doc) -> str:
    return f"resources/{item['_id']}"


def _not_removed(item: Doc) -> None:
    if (item.get("moderation") or {}).get("state") == "removed":
        raise Conflict("a moderator removed this item: it can no longer be curated")


async def _curated_item(ctx: ResourcesContext, person: Person, resource_id: str, *, staff_only: bool) -> Doc:
    """The item, if `person` may curate it: like an edit (its creator, or its community's
    owners and facilitators, who may still post there), or the staff alone."""
    if staff_only:
        item, sight = await visible_resource(ctx, person, resource_id)
        require_staff(sight, item["community_id"])
        await posting_community(ctx, person, item["community_id"])  # not archived; holds the role
    else:
        item, _sight = await editable_resource(ctx, person, resource_id)
    _not_removed(item)
    return item


def _touch(person: Person, moment: datetime) -> Doc:
    return {"updated_by": person.id, "updated_at": moment}


# -- review status ----------------------------------------------------------------


async def publish(ctx: ResourcesContext, person: Person, resource_id: str) -> CurationView:
    """draft or archived -> published (a no-op when published already)."""

    async def work(tx: Transaction) -> Doc:
        item = await _curated_item(ctx, person, resource_id, staff_only=False)
        if not transition(item, "published"):
            return item
        fields = {**status_fields(item, "published"), **_touch(person, now())}
        written = await _write(ctx, item, fields)
        announce(
            tx,
            _aggregate(written),
            written["community_id"],
            ResourcePublished(resource=resource_snapshot(written), published_by=person.id),
        )
        return written

    return await curation_view(ctx, person, await ctx.uow.run(work))


async def archive(ctx: ResourcesContext, person: Person, resource_id: str) -> CurationView:
    """published -> archived (a no-op when archived already; a draft is a 409: delete or publish it)."""

    async def work(tx: Transaction) -> Doc:
        item = await _curated_item(ctx, person, resource_id, staff_only=False)
        if not transition(item, "archived"):
            return item
        written = await _write(ctx, item, {**status_fields(item, "archived"), **_touch(person, now())})
        announce(
            tx,
            _aggregate(written),
            written["community_id"],
            ResourceArchived(resource=resource_snapshot(written), archived_by=person.id),
        )
        return written

    return await curation_view(ctx, person, await ctx.uow.run(work))


async def _write(ctx: ResourcesContext, item: Doc, fields: Doc) -> Doc:
    written = await ctx.storage.curation.set_fields(item["_id"], fields)
    if written is None:  # deleted since it was read, in this same transaction: cannot happen
        raise NotFound(NOT_FOUND)
    return written


# -- review by ----------------------------------------------------------------------


async def set_review_by(
    ctx: ResourcesContext, person: Person, resource_id: str, review_by: datetime | None
) -> CurationView:
    """Set (or, with None, remove) the date after which facilitators are asked to review it."""

    async def work(tx: Transaction) -> Doc:
        item = await _curated_item(ctx, person, resource_id, staff_only=True)
        fields = review_by_fields(item, review_by)
        if fields is None:
            return item
        written = await _write(ctx, item, {**fields, **_touch(person, now())})
        announce(
            tx,
            _aggregate(written),
            written["community_id"],
            ResourceUpdated(resource=resource_snapshot(written), changed=["review_by"], updated_by=person.id),
        )
        return written

    return await curation_view(ctx, person, await ctx.uow.run(work))


async def announce_review_due(ctx: ResourcesContext, actor: System, resource_id: str, due: datetime) -> bool:
    """Flag the item and announce `resource.review_due`, once for this date: the claim
    (a write that matches only while the date is still armed) and the outbox record
    commit together, so a second replica's claim, or a restarted job's, matches nothing.
    True if this call announced it."""

    async def work(tx: Transaction) -> bool:
        item = await ctx.storage.curation.item(resource_id)
        if item is None or item.get("review_next") != due:
            return False  # claimed already, or re-armed with another date
        claim = review_claim(item, now())
        if claim is None:
            return False
        written = await ctx.storage.curation.claim_review(resource_id, due, claim.fields)
        if written is None or not claim.announce:
            return False
        tx.announce(
            ResourceReviewDue(resource=resource_snapshot(written), review_by=due),
            aggregate=_aggregate(written),
            community_id=written["community_id"],
            message_id=review_due_message_id(resource_id, due),
        )
        return True

    return await ctx.uow.run(work)


async def review_due_list(
    ctx: ResourcesContext, person: Person, community_id: str, cursor: str | None, limit: int
) -> ResourcePage:
    """The community's items whose review-by date has come: for its owners and facilitators."""
    _community, sight = await known_community(ctx, person, community_id)
    require_staff(sight, community_id)
    after = _decode(cursor)
    docs = await ctx.storage.curation.review_due_page(community_id, after=after, limit=limit + 1)
    page = docs[:limit]
    next_cursor = encode_cursor({"key": page[-1]["review_due_key"]}) if len(docs) > limit and page else None
    return ResourcePage(items=[resource_view(d, sight, with_text=False) for d in page], next_cursor=next_cursor)


# -- endorsement --------------------------------------------------------------------


async def endorse(ctx: ResourcesContext, person: Person, resource_id: str) -> CurationView:
    """Recommend a published item (a no-op when endorsed already)."""

    async def work(tx: Transaction) -> Doc:
        item = await _curated_item(ctx, person, resource_id, staff_only=True)
        require_endorsable(item)
        if item.get("endorsed"):
            return item
        moment = now()
        fields = {"endorsed": {"by": person.id, "at": moment}, "endorsed_key": endorsement_key(item, moment)}
        written = await _write(ctx, item, fields)
        announce(
            tx,
            _aggregate(written),
            written["community_id"],
            ResourceEndorsed(resource=resource_snapshot(written), endorsed_by=person.id),
        )
        return written

    return await curation_view(ctx, person, await ctx.uow.run(work))


async def withdraw_endorsement(ctx: ResourcesContext, person: Person, resource_id: str) -> None:
    """A no-op when the item is not endorsed."""

    async def work(tx: Transaction) -> None:
        item = await _curated_item(ctx, person, resource_id, staff_only=True)
        if not item.get("endorsed"):
            return
        written = await _write(ctx, item, {"endorsed": None, "endorsed_key": None})
        announce(
            tx,
            _aggregate(written),
            written["community_id"],
            ResourceEndorsementWithdrawn(resource=resource_snapshot(written), withdrawn_by=person.id),
        )

    await ctx.uow.run(work)


async def recommended(
    ctx: ResourcesContext, person: Person, community_id: str, cursor: str | None, limit: int
) -> ResourcePage:
    """The community's endorsed published items the caller may see, newest endorsement first.
    Reads on past what the caller may not see until the page is full or the list ends."""
    _community, sight = await known_community(ctx, person, community_id)
    before = _decode(cursor)
    shown: list[Doc] = []
    while True:
        docs = await ctx.storage.curation.recommended_page(community_id, before=before, limit=limit + 1)
        for doc in docs:
            if await sight.can_see_resource(doc):
                shown.append(doc)
            if len(shown) > limit:
                break
        if len(shown) > limit or len(docs) <= limit:
            break
        before = docs[-1]["endorsed_key"]
    page = shown[:limit]
    next_cursor = encode_cursor({"key": page[-1]["endorsed_key"]}) if len(shown) > limit else None
    return ResourcePage(items=[resource_view(d, sight, with_text=False) for d in page], next_cursor=next_cursor)


# -- useful marks -------------------------------------------------------------------


async def _markable_item(ctx: ResourcesContext, person: Person, resource_id: str) -> Doc:
    item, _sight = await visible_resource(ctx, person, resource_id)
    membership = await ctx.storage.membership.member(item["community_id"], person.id)
    if membership is not None and membership.get("banned"):
        raise Forbidden("you were banned from this community: you can no longer mark its items")
    return item


async def mark_useful(ctx: ResourcesContext, person: Person, resource_id: str) -> tuple[CurationView, bool]:
    """One mark per person; True if this call made it (False: it was there)."""

    async def work(_tx: Transaction) -> tuple[Doc, bool]:
        item = await _markable_item(ctx, person, resource_id)
        added = await ctx.storage.curation.add_mark(item, person.id, now())
        return (await ctx.storage.curation.item(resource_id) or item), added

    item, added = await ctx.uow.run(work)
    return await curation_view(ctx, person, item), added


async def unmark_useful(ctx: ResourcesContext, person: Person, resource_id: str) -> None:
    async def work(_tx: Transaction) -> None:
        item = await _markable_item(ctx, person, resource_id)
        await ctx.storage.curation.remove_mark(item, person.id)

    await ctx.uow.run(work)


# -- views ----------------------------------------------------------------------------


async def curation_of(ctx: ResourcesContext, person: Person, resource_id: str) -> CurationView:
    item, _sight = await visible_resource(ctx, person, resource_id)
    return await curation_view(ctx, person, item)


async def curation_view(ctx: ResourcesContext, person: Person, item: Doc) -> CurationView:
    endorsed = item.get("endorsed")
    return CurationView(
        resource_id=item["_id"],
        community_id=item["community_id"],
        status=item.get("status", "published"),
        review_by=item.get("review_by"),
        review_due=bool(item.get("review_due")),
        endorsed=EndorsementView(by=endorsed["by"], at=endorsed["at"]) if endorsed else None,
        useful_count=max(int(item.get("useful_count") or 0), 0),
        marked_useful_by_me=await ctx.storage.curation.has_mark(item["_id"], person.id),
    )


def _decode(cursor: str | None) -> str | None:
    key = decode_cursor(cursor, {"key": str})
    return key["key"] if key is not None else None
