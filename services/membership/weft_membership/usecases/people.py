"""People: their record on first sight, profiles and the expertise directory."""

from __future__ import annotations

from weft_membership.domain.roles import Staff
from weft_membership.domain.search import query_terms, search_terms
from weft_membership.schemas import Me, MyCommunity, Profile, ProfileUpdate
from weft_membership.storage.documents import Doc
from weft_membership.storage.people import People
from weft_membership.usecases.context import Context
from weft_shared.contracts.membership import PersonContactChanged, ProfileUpdated
from weft_shared.service.actor import Person
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction


def profile_of(doc: Doc, *, with_email: bool) -> Profile:
    return Profile(
        user_id=doc["_id"],
        email=doc.get("email") if with_email else None,
        display_name=doc.get("display_name"),
        bio=doc.get("bio", ""),
        organisation=doc.get("organisation", ""),
        expertise=doc.get("expertise", []),
        interests=doc.get("interests", []),
    )


async def register(ctx: Context, actor: Person) -> None:
    """Create the person's record from their token's claims (or refresh their email),
    and announce their contact when they are new or their address changed."""
    claims = actor.principal

    async def work(tx: Transaction) -> None:
        before = await ctx.store.people.ensure(actor.id, claims.email, claims.name)
        changed = contact_changed(actor.id, before, email=claims.email, name=claims.name)
        if changed is not None:
            tx.announce(changed, aggregate=People.aggregate(actor.id), community_id=None)

    await ctx.uow.run(work)


def contact_changed(
    user_id: str, before: Doc | None, *, email: str | None, name: str | None
) -> PersonContactChanged | None:
    """The message to announce after recording a person whose record was `before`
    (None: new), or None when how to reach them is unchanged."""
    if before is None:
        return PersonContactChanged(user_id=user_id, email=email, display_name=name)
    known = before.get("email")
    if before.get("contact_announced") and (not email or email == known):
        return None  # a token without an email leaves the recorded one in place
    return PersonContactChanged(user_id=user_id, email=email or known, display_name=before.get("display_name"))


async def me(ctx: Context, actor: Person) -> Me:
    claims = actor.principal
    doc = await ctx.store.people.get(actor.id) or {"_id": actor.id, "email": claims.email, "display_name": claims.name}
    community_ids = await ctx.store.memberships.active_community_ids(actor.id)
    communities = await ctx.store.communities.by_ids(community_ids)
    mine = [
        MyCommunity(id=c["_id"], name=c["name"], slug=c["slug"], role=Staff.of(c).role_of(actor.id))
        for c in sorted(communities, key=lambda c: c["slug"])
    ]
    return Me(**profile_of(doc, with_email=True).model_dump(), communities=mine)


async def update_profile(ctx: Context, actor: Person, body: ProfileUpdate) -> Profile:
    display_name = body.display_name or actor.principal.name
    expertise = list(dict.fromkeys(body.expertise))
    interests = list(dict.fromkeys(body.interests))
    fields: Doc = {
        "display_name": display_name,
        "bio": body.bio,
        "organisation": body.organisation,
        "expertise": expertise,
        "interests": interests,
        "expertise_terms": sorted({e.lower() for e in expertise}),
        "search_terms": search_terms(display_name or "", body.organisation, *expertise, *interests),
    }

    async def work(tx: Transaction) -> Doc:
        saved = await ctx.store.people.save_profile(actor.id, fields)
        updated = ProfileUpdated(
            user_id=actor.id,
            display_name=display_name,
            bio=body.bio,
            organisation=body.organisation,
            expertise=expertise,
            interests=interests,
        )
        tx.announce(updated, aggregate=People.aggregate(actor.id), community_id=None)
        return saved

    return profile_of(await ctx.uow.run(work), with_email=True)


async def people(
    ctx: Context, actor: Person, *, expertise: str | None, q: str | None, cursor: str | None, limit: int
) -> Page[Profile]:
    """People the caller may see: members of public communities and of the
    caller's own communities (member lists follow community visibility)."""
    after = decode_cursor(cursor, {"user_id": str})
    public = await ctx.store.communities.public_ids()
    mine = await ctx.store.memberships.active_community_ids(actor.id)
    visible_communities = sorted(set(public) | set(mine))
    ids = await ctx.store.memberships.active_member_ids(visible_communities) if visible_communities else set()
    ids.add(actor.id)
    docs = await ctx.store.people.page(
        ids=sorted(ids),
        expertise=expertise.strip().lower() if expertise else None,
        terms=query_terms(q or ""),
        after_user=after["user_id"] if after else None,
        limit=limit + 1,
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"user_id": d["_id"]})
    return Page[Profile](items=[profile_of(d, with_email=False) for d in docs], next_cursor=next_cursor)
