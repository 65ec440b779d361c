"""Creating, reading, listing, changing and archiving communities; codes of conduct."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from pymongo.errors import DuplicateKeyError

from weft_membership.domain.access import (
    Viewer,
    Visibility,
    can_see_details,
    member_viewer,
    require_open,
    require_owner,
    require_staff,
)
from weft_membership.domain.membership import MemberStatus
from weft_membership.domain.roles import Role
from weft_membership.domain.search import query_terms, search_terms, slugify
from weft_membership.messages import community_snapshot, member_joined
from weft_membership.schemas import (
    CodeOfConductPublish,
    CodeOfConductView,
    CommunityCreate,
    CommunityUpdate,
    CommunityView,
)
from weft_membership.storage.communities import Communities
from weft_membership.storage.documents import Doc
from weft_membership.usecases.context import Context, announce_membership
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.membership import (
    CodeOfConductPublished,
    CommunityArchived,
    CommunityCreated,
    CommunityUpdated,
)
from weft_shared.errors import Conflict, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Transaction

SLUG_ATTEMPTS = 5
HIDDEN_SUFFIX_BYTES = 8  # 64 random bits


def community_view(community: Doc, viewer: Viewer | None, member_count: int | None = None) -> CommunityView:
    view = CommunityView(
        id=community["_id"],
        slug=community["slug"],
        name=community["name"],
        purpose=community["purpose"],
        tags=community.get("tags", []),
        visibility=community["visibility"],
        join_policy=community["join_policy"],
        archived=community.get("archived", False),
    )
    if viewer is not None:
        view.my_status = viewer.status
        view.my_role = viewer.role
        view.my_code_of_conduct_version = viewer.conduct_version_accepted
    if viewer is not None and can_see_details(community, viewer):
        coc = community.get("code_of_conduct")
        view.description = community.get("description", "")
        view.code_of_conduct = CodeOfConductView(**coc) if coc else None
        view.member_count = member_count
        view.created_at = community.get("created_at")
    return view


def _terms(name: str, purpose: str, tags: list[str]) -> list[str]:
    return search_terms(name, purpose, *tags)


def _announce_community(tx: Transaction, payload: MessagePayload, community_id: str) -> None:
    tx.announce(payload, aggregate=Communities.aggregate(community_id), community_id=community_id)


def hidden_slug(name: str) -> str:
    """A hidden community's slug: its name and an unguessable suffix, so that no probe
    (a chosen slug, or one derived from a name) can collide with it (decision 0004)."""
    return f"{slugify(name)}-{secrets.token_hex(HIDDEN_SUFFIX_BYTES)}"


async def create_community(ctx: Context, actor: Person, body: CommunityCreate) -> CommunityView:
    """The community and its creator's membership as owner, in one transaction."""
    hidden = body.visibility is Visibility.HIDDEN
    if hidden and body.slug:
        raise Problem(
            "a hidden community's slug is chosen by Weft",
            status=422,
            errors=[{"field": "slug", "message": "not for a hidden community"}],
        )
    wanted = body.slug or slugify(body.name)

    async def create(tx: Transaction, slug: str) -> Doc:
        community_id, created = new_id(), now()
        coc = body.code_of_conduct
        community: Doc = {
            "_id": community_id,
            "slug": slug,
            "name": body.name,
            "purpose": body.purpose,
            "description": body.description,
            "tags": sorted(set(body.tags)),
            "visibility": body.visibility.value,
            "join_policy": body.join_policy.value,
            "archived": False,
            "owners": [actor.id],
            "facilitators": [],
            "code_of_conduct": (
                {"version": 1, "text": coc, "published_at": created, "published_by": actor.id} if coc else None
            ),
            "search_terms": _terms(body.name, body.purpose, body.tags),
            "created_by": actor.id,
            "created_at": created,
            "updated_at": created,
        }
        await ctx.store.slugs.claim(slug, community_id)
        await ctx.store.communities.insert(community)
        accepted = {"coc_version_accepted": 1} if coc else {}
        fields = {"status": MemberStatus.ACTIVE.value, "via": "creation", "joined_at": created, **accepted}
        await ctx.store.memberships.put(community_id, actor.id, fields, before=None)
        _announce_community(
            tx, CommunityCreated(community=community_snapshot(community), created_by=actor.id), community_id
        )
        joined = member_joined(community, actor.id, actor.principal.name, via="creation", role=Role.OWNER)
        announce_membership(tx, joined, community_id, actor.id)
        return community

    for attempt in range(SLUG_ATTEMPTS):
        slug = hidden_slug(body.name) if hidden else wanted if attempt == 0 else f"{wanted}-{new_id()[-6:]}"
        try:
            community = await ctx.uow.run(partial(create, slug=slug))
        except DuplicateKeyError:  # the slug is taken
            if body.slug:  # the caller chose it: tell them, don't invent another
                raise Conflict(f"the slug '{body.slug}' is taken") from None
            continue
        viewer = member_viewer(community, actor.id)
        view = community_view(community, viewer, member_count=1)
        view.my_code_of_conduct_version = 1 if body.code_of_conduct else None
        return view
    raise Conflict("could not find a free slug; give one explicitly")


async def get_community(ctx: Context, actor: Person, community_id: str) -> CommunityView:
    access = await ctx.access(community_id, actor)
    details = can_see_details(access.community, access.viewer)
    count = await ctx.store.memberships.active_count(community_id) if details else None
    return community_view(access.community, access.viewer, count)


async def directory(
    ctx: Context, actor: Person, *, q: str | None, tag: str | None, cursor: str | None, limit: int
) -> Page[CommunityView]:
    after = decode_cursor(cursor, {"slug": str})
    mine = await ctx.store.memberships.active_community_ids(actor.id)
    docs = await ctx.store.communities.directory_page(
        my_community_ids=mine,
        terms=query_terms(q or ""),
        tag=tag.strip().lower() if tag else None,
        after_slug=after["slug"] if after else None,
        limit=limit + 1,
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"slug": d["slug"]})
    mine_set = set(mine)
    outsider = Viewer(user_id=actor.id, status=None, role=None)
    viewers = [member_viewer(d, actor.id) if d["_id"] in mine_set else outsider for d in docs]
    # Counts only where the caller may see details (as on the community's own page), in one query.
    counts = await ctx.store.memberships.active_counts(
        [d["_id"] for d, v in zip(docs, viewers, strict=True) if can_see_details(d, v)]
    )
    items = [community_view(d, v, counts.get(d["_id"])) for d, v in zip(docs, viewers, strict=True)]
    return Page[CommunityView](items=items, next_cursor=next_cursor)


async def update_community(ctx: Context, actor: Person, community_id: str, body: CommunityUpdate) -> CommunityView:
    async def work(tx: Transaction) -> None:
        access = await ctx.access(community_id, actor)
        require_staff(access.viewer)
        community = access.community
        require_open(community)
        changes: Doc = {}
        for field in body.model_fields_set:
            value: Any = getattr(body, field)
            value = value.value if hasattr(value, "value") else value
            if field == "tags":
                value = sorted(set(value))
            if community.get(field) != value:
                changes[field] = value
        if not changes:
            return
        if changes.get("visibility") == Visibility.HIDDEN.value:
            # Its old slug would answer "taken" to a probe: it gets a hidden one, and the old one is free.
            changes["slug"] = hidden_slug(str(changes.get("name", community["name"])))
            await ctx.store.slugs.release(community["slug"])
            await ctx.store.slugs.claim(changes["slug"], community_id)
        changed = sorted(changes)
        merged = {**community, **changes}
        changes["search_terms"] = _terms(merged["name"], merged["purpose"], merged.get("tags", []))
        changes["updated_at"] = now()
        await ctx.store.communities.set_fields(community_id, changes)
        payload = CommunityUpdated(community=community_snapshot(merged), changed=changed, updated_by=actor.id)
        _announce_community(tx, payload, community_id)

    await ctx.uow.run(work)
    return await get_community(ctx, actor, community_id)


async def archive_community(ctx: Context, actor: Person, community_id: str) -> CommunityView:
    async def work(tx: Transaction) -> None:
        access = await ctx.access(community_id, actor)
        require_owner(access.viewer)
        if access.community.get("archived"):
            return  # archiving twice is a no-op, not an error
        await ctx.store.communities.set_fields(
            community_id, {"archived": True, "archived_at": now(), "updated_at": now()}
        )
        archived = community_snapshot({**access.community, "archived": True})
        _announce_community(tx, CommunityArchived(community=archived, archived_by=actor.id), community_id)

    await ctx.uow.run(work)
    return await get_community(ctx, actor, community_id)


async def publish_code_of_conduct(
    ctx: Context, actor: Person, community_id: str, body: CodeOfConductPublish
) -> CodeOfConductView:
    async def work(tx: Transaction) -> Doc:
        access = await ctx.access(community_id, actor)
        require_staff(access.viewer)
        require_open(access.community)
        current: Doc | None = access.community.get("code_of_conduct")
        if current and current["text"] == body.text:
            return current
        version = (current["version"] if current else 0) + 1
        coc = {"version": version, "text": body.text, "published_at": now(), "published_by": actor.id}
        await ctx.store.communities.set_fields(community_id, {"code_of_conduct": coc, "updated_at": now()})
        published = CodeOfConductPublished(
            community_id=community_id, version=version, text=body.text, published_by=actor.id
        )
        _announce_community(tx, published, community_id)
        return coc

    return CodeOfConductView(**await ctx.uow.run(work))
