"""Erasing the caller (`DELETE /v1/me`): membership's part, and the fact for everyone else.

One unit of work: refuse if they are the only owner of a community (a community
always keeps an owner: they hand over first), erase what membership holds about
them, keep a tombstone, and announce `person.erased` so every other service erases
its own. The same account used afterwards is a new, empty person.
"""

from __future__ import annotations

from datetime import datetime

from weft_membership.schemas import ErasureAccepted
from weft_membership.usecases.context import Context
from weft_shared.contracts.privacy_erasure import PersonErased
from weft_shared.errors import Conflict
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.storage.erasures import person_hash
from weft_shared.storage.unit_of_work import Transaction


async def erase_me(ctx: Context, actor: Person) -> ErasureAccepted:
    async def work(tx: Transaction) -> datetime:
        await refuse_sole_owner(ctx, actor.id)
        email = await ctx.store.erasure.email_of(actor.id) or actor.principal.email
        await ctx.store.erasure.erase(actor.id, email)
        erased_at = now()
        await ctx.erased_people.record(actor.id, erased_at)
        tx.announce(
            PersonErased(user_id=actor.id, erased_at=erased_at),
            aggregate=f"erasures/{person_hash(actor.id)}",
            community_id=None,
        )
        return erased_at

    erased_at = await ctx.uow.run(work)
    return ErasureAccepted(
        status="erasing",
        erased_at=erased_at,
        detail="Your profile and memberships are erased. Every other service erases what it holds about you "
        "within moments; what must stay (your posts, attendance counts) stays anonymised.",
    )


async def refuse_sole_owner(ctx: Context, user_id: str) -> None:
    """409 naming every community whose only owner they are."""
    communities = await ctx.store.communities.by_ids(await ctx.store.memberships.active_community_ids(user_id))
    sole = sorted((c for c in communities if list(c.get("owners", ())) == [user_id]), key=lambda c: c["slug"])
    if sole:
        names = ", ".join(c["name"] for c in sole)
        raise Conflict(
            f"you are the only owner of {names}: make someone else an owner first",
            errors=[{"field": "communities", "message": f"only owner of {c['name']} ({c['_id']})"} for c in sole],
        )
