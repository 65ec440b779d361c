"""Profiles and the expertise directory."""

from __future__ import annotations

from weft_membership.domain import query_terms, role_in, search_terms
from weft_membership.repository import Doc
from weft_membership.schemas import Me, MyCommunity, Profile, ProfileUpdate
from weft_membership.usecases.context import Context
from weft_shared.auth import Principal
from weft_shared.contracts.membership import ProfileUpdated
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.models import Page


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


async def me(ctx: Context, user: Principal) -> Me:
    doc = await ctx.repo.get_user(user.sub) or {"_id": user.sub, "email": user.email, "display_name": user.name}
    community_ids = await ctx.repo.active_community_ids(user.sub)
    communities = await ctx.repo.communities_by_ids(community_ids)
    mine = [
        MyCommunity(id=c["_id"], name=c["name"], slug=c["slug"], role=role_in(c, user.sub))
        for c in sorted(communities, key=lambda c: c["slug"])
    ]
    return Me(**profile_of(doc, with_email=True).model_dump(), communities=mine)


async def update_profile(ctx: Context, user: Principal, body: ProfileUpdate) -> Profile:
    expertise = list(dict.fromkeys(body.expertise))
    interests = list(dict.fromkeys(body.interests))
    fields: Doc = {
        "display_name": body.display_name or user.name,
        "bio": body.bio,
        "organisation": body.organisation,
        "expertise": expertise,
        "interests": interests,
        "expertise_terms": sorted({e.lower() for e in expertise}),
        "search_terms": search_terms(body.display_name or user.name or "", body.organisation, *expertise, *interests),
    }
    message = ProfileUpdated(
        user_id=user.sub,
        display_name=fields["display_name"],
        bio=body.bio,
        organisation=body.organisation,
        expertise=expertise,
        interests=interests,
    )
    written = await ctx.repo.update_profile(user.sub, fields, [ctx.message(message, None)])
    await ctx.announce(ctx.repo.users, written)
    return profile_of(written or {"_id": user.sub, **fields}, with_email=True)


async def people(
    ctx: Context, user: Principal, *, expertise: str | None, q: str | None, cursor: str | None, limit: int
) -> Page[Profile]:
    """People the caller may see: members of public communities and of the
    caller's own communities (member lists follow community visibility)."""
    after = decode_cursor(cursor, {"user_id": str})
    visible_communities = sorted(
        set(await ctx.repo.public_community_ids()) | set(await ctx.repo.active_community_ids(user.sub))
    )
    ids = set(await ctx.repo.visible_people_ids(visible_communities)) if visible_communities else set()
    ids.add(user.sub)
    docs = await ctx.repo.people_page(
        ids=sorted(ids),
        expertise=expertise.strip().lower() if expertise else None,
        terms=query_terms(q or ""),
        after_user=after["user_id"] if after else None,
        limit=limit + 1,
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"user_id": d["_id"]})
    items = [profile_of(d, with_email=False) for d in docs]
    return Page[Profile](items=items, next_cursor=next_cursor)
