"""Collections: curated, ordered lists of library items (a reading list for new
members, a toolkit), made and kept by the community's owners and facilitators.

Curating is the facilitators' job, as endorsement is: members read collections and
suggest items (marks, discussions), they do not rearrange them. Whoever may know the
community (its members, and anyone signed in when it is not hidden) may read its
collections, and sees each one's items filtered by what they may see: an item
archived, hidden or unshared later drops out for those who may no longer see it.

An item may be put in a collection if the caller may see it and it is in the
community's library: the community's own, or a linked community's (sharing
resources) that is `partners`-visible or explicitly shared with this community.
"""

from __future__ import annotations

from weft_resources.domain.documents import Doc
from weft_resources.schemas import (
    CollectionCreate,
    CollectionPatch,
    CollectionSummary,
    CollectionView,
)
from weft_resources.usecases.access import Sight, known_community, posting_community, require_staff
from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.resources import resource_view
from weft_shared.errors import NotFound, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction

NO_SUCH_COLLECTION = "no such collection"


async def create(ctx: ResourcesContext, person: Person, community_id: str, body: CollectionCreate) -> CollectionView:
    async def work(_tx: Transaction) -> tuple[Doc, Sight]:
        _community, sight = await posting_community(ctx, person, community_id)
        require_staff(sight, community_id)
        moment = now()
        doc: Doc = {
            "_id": new_id(),
            "community_id": community_id,
            "title": body.title,
            "description": body.description,
            "item_ids": [],
            "created_by": person.id,
            "created_at": moment,
            "updated_by": person.id,
            "updated_at": moment,
        }
        await ctx.storage.collections.insert(doc)
        return doc, sight

    made, sight = await ctx.uow.run(work)
    return _view(made, sight, [])


async def page(
    ctx: ResourcesContext, person: Person, community_id: str, cursor: str | None, limit: int
) -> Page[CollectionSummary]:
    await known_community(ctx, person, community_id)
    key = decode_cursor(cursor, {"before": str})
    before: str | None = key["before"] if key is not None else None
    docs = await ctx.storage.collections.page(community_id, before=before, limit=limit + 1)
    shown = docs[:limit]
    next_cursor = encode_cursor({"before": shown[-1]["order_key"]}) if len(docs) > limit and shown else None
    return Page[CollectionSummary](items=[_summary(d) for d in shown], next_cursor=next_cursor)


async def _readable(ctx: ResourcesContext, person: Person, collection_id: str) -> tuple[Doc, Sight]:
    """The collection, if `person` may know its community (else the 404 of an unknown id)."""
    collection = await ctx.storage.collections.get(collection_id)
    if collection is None:
        raise NotFound(NO_SUCH_COLLECTION)
    try:
        _community, sight = await known_community(ctx, person, collection["community_id"])
    except NotFound as exc:
        raise NotFound(NO_SUCH_COLLECTION) from exc
    return collection, sight


async def _editable(ctx: ResourcesContext, person: Person, collection_id: str) -> tuple[Doc, Sight]:
    collection, _sight = await _readable(ctx, person, collection_id)
    _community, sight = await posting_community(ctx, person, collection["community_id"])
    require_staff(sight, collection["community_id"])
    return collection, sight


async def get(ctx: ResourcesContext, person: Person, collection_id: str) -> CollectionView:
    collection, sight = await _readable(ctx, person, collection_id)
    return _view(collection, sight, await _visible_items(ctx, sight, collection))


async def update(ctx: ResourcesContext, person: Person, collection_id: str, body: CollectionPatch) -> CollectionView:
    async def work(_tx: Transaction) -> tuple[Doc, Sight]:
        _collection, sight = await _editable(ctx, person, collection_id)
        fields: Doc = {name: getattr(body, name) for name in body.model_fields_set}
        written = await ctx.storage.collections.update(
            collection_id, {**fields, "updated_by": person.id, "updated_at": now()}
        )
        if written is None:
            raise NotFound(NO_SUCH_COLLECTION)
        return written, sight

    collection, sight = await ctx.uow.run(work)
    return _view(collection, sight, await _visible_items(ctx, sight, collection))


async def delete(ctx: ResourcesContext, person: Person, collection_id: str) -> None:
    async def work(_tx: Transaction) -> None:
        await _editable(ctx, person, collection_id)
        await ctx.storage.collections.delete(collection_id)

    await ctx.uow.run(work)


async def set_items(
    ctx: ResourcesContext, person: Person, collection_id: str, resource_ids: list[str]
) -> CollectionView:
    """Replace the collection's items with `resource_ids`, in that order."""

    async def work(_tx: Transaction) -> tuple[Doc, Sight]:
        collection, sight = await _editable(ctx, person, collection_id)
        await _check_items(ctx, sight, collection["community_id"], resource_ids)
        written = await ctx.storage.collections.update(
            collection_id, {"item_ids": resource_ids, "updated_by": person.id, "updated_at": now()}
        )
        if written is None:
            raise NotFound(NO_SUCH_COLLECTION)
        return written, sight

    collection, sight = await ctx.uow.run(work)
    return _view(collection, sight, await _visible_items(ctx, sight, collection))


async def _check_items(ctx: ResourcesContext, sight: Sight, community_id: str, resource_ids: list[str]) -> None:
    """A 422 naming the first index that is a repeat, unknown, unseen or outside the library."""
    items = await ctx.storage.curation.items_by_ids(sorted(set(resource_ids)))
    linked = sight.standing.linked.get(community_id, frozenset())
    seen: set[str] = set()
    for index, resource_id in enumerate(resource_ids):
        field = f"resource_ids.{index}"
        if resource_id in seen:
            raise _refused(field, f"{resource_id!r} is already in the list (at an earlier index)")
        seen.add(resource_id)
        item = items.get(resource_id)
        if item is None or not await sight.can_see_resource(item):
            # Unknown and unseen are one answer: the list does not reveal what exists.
            raise _refused(field, f"no such resource: {resource_id!r}")
        if not in_library(item, community_id, linked):
            raise _refused(field, f"{resource_id!r} is not in this community's library")


def in_library(item: Doc, community_id: str, linked: frozenset[str]) -> bool:
    """The community's own item, or a linked community's item shared into its library."""
    if item["community_id"] == community_id:
        return True
    if item["community_id"] not in linked:
        return False
    return item.get("visibility") == "partners" or community_id in (item.get("shared_with") or [])


def _refused(field: str, message: str) -> Problem:
    return Problem(f"{field}: {message}", status=422, errors=[{"field": field, "message": message}])


async def _visible_items(ctx: ResourcesContext, sight: Sight, collection: Doc) -> list[Doc]:
    """The collection's items in order, only those the caller may see now. An archived
    item is out of the library's lists, so out of the collection too, except for the
    community's owners and facilitators (who keep the collection and may bring it back)."""
    resource_ids: list[str] = collection["item_ids"]
    keeper = sight.standing.is_staff(collection["community_id"])
    items = await ctx.storage.curation.items_by_ids(sorted(set(resource_ids)))
    shown = []
    for resource_id in resource_ids:
        item = items.get(resource_id)
        if item is None or not await sight.can_see_resource(item):
            continue
        if item.get("status") == "archived" and not keeper:
            continue
        shown.append(item)
    return shown


def _summary(doc: Doc) -> CollectionSummary:
    return CollectionSummary(
        id=doc["_id"],
        community_id=doc["community_id"],
        title=doc["title"],
        description=doc.get("description") or "",
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
    )


def _view(doc: Doc, sight: Sight, items: list[Doc]) -> CollectionView:
    shown = [resource_view(i, sight, with_text=False) for i in items]
    return CollectionView(**_summary(doc).model_dump(), items=shown)
