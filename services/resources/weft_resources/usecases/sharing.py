"""Sharing a library item explicitly with a linked community (and withdrawing it).

The share is only a name in `shared_with`: whether it lets anyone see the item is
decided when reading (domain/standing.py), from the links as they are then, so a
removed link takes the item out of the partner's library at once."""

from __future__ import annotations

from weft_resources.messages import resource_snapshot
from weft_resources.schemas import ResourceView
from weft_resources.usecases.access import announce, require_staff
from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.resources import editable_resource, invalid, resource_view
from weft_shared.contracts.resources import ResourceShared, ResourceUnshared
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.storage.unit_of_work import Transaction

# One answer for a community that is hidden, unknown or not linked: the caller learns nothing more.
NOT_LINKED = "can be shared only with a community linked with this one to share resources"


async def share_resource(ctx: ResourcesContext, person: Person, resource_id: str, target_id: str) -> ResourceView:
    """Share with `target_id` (the item's community's owners and facilitators). Sharing again changes nothing."""

    async def work(tx: Transaction) -> ResourceView:
        item, sight = await editable_resource(ctx, person, resource_id)
        community_id = item["community_id"]
        require_staff(sight, community_id)
        if target_id == community_id or not await ctx.storage.membership.linked_for_resources(community_id, target_id):
            raise invalid("community_id", NOT_LINKED)
        if target_id in item.get("shared_with", []):
            return resource_view(item, sight)
        written = await ctx.storage.items.update(
            resource_id, fields={"updated_by": person.id, "updated_at": now()}, add_to={"shared_with": target_id}
        )
        shared = ResourceShared(resource=resource_snapshot(written), shared_with=target_id, shared_by=person.id)
        announce(tx, f"resources/{resource_id}", community_id, shared)
        return resource_view(written, sight)

    return await ctx.uow.run(work)


async def unshare_resource(ctx: ResourcesContext, person: Person, resource_id: str, target_id: str) -> None:
    """Withdraw a share (also after the link is gone). Withdrawing one that is not there changes nothing."""

    async def work(tx: Transaction) -> None:
        item, sight = await editable_resource(ctx, person, resource_id)
        community_id = item["community_id"]
        require_staff(sight, community_id)
        if target_id not in item.get("shared_with", []):
            return
        written = await ctx.storage.items.update(
            resource_id, fields={"updated_by": person.id, "updated_at": now()}, pull={"shared_with": target_id}
        )
        unshared = ResourceUnshared(resource=resource_snapshot(written), unshared_from=target_id, unshared_by=person.id)
        announce(tx, f"resources/{resource_id}", community_id, unshared)

    await ctx.uow.run(work)
