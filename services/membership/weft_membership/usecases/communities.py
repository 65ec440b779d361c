"""Creating, reading, listing, changing and archiving communities; codes of conduct."""

from __future__ import annotations

from typing import Any

from weft_membership.domain import (
    MemberStatus,
    Role,
    Viewer,
    can_see_details,
    query_terms,
    role_in,
    search_terms,
    slugify,
)
from weft_membership.repository import Doc
from weft_membership.schemas import (
    CodeOfConductPublish,
    CodeOfConductView,
    CommunityCreate,
    CommunityUpdate,
    CommunityView,
)
from weft_membership.usecases.context import Context, snapshot
from weft_shared.auth import Principal
from weft_shared.contracts.membership import (
    CodeOfConductPublished,
    CommunityArchived,
    CommunityCreated,
    CommunityUpdated,
    MemberJoined,
)
from weft_shared.errors import Conflict
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, split_page
from weft_shared.service.ids import new_id
from weft_shared.service.models import Page
from weft_shared.storage.unit_of_work import Outgoing

SLUG_ATTEMPTS = 5


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
    if viewer is not None and can_see_details(community, viewer):
        coc = community.get("code_of_conduct")
        view.description = community.get("description", "")
        view.code_of_conduct = CodeOfConductView(**coc) if coc else None
        view.member_count = member_count
        view.created_at = community.get("created_at")
    return view


def _terms(name: str, purpose: str, tags: list[str]) -> list[str]:
    return search_terms(name, purpose, *tags)


async def create_community(ctx: Context, user: Principal, body: CommunityCreate) -> CommunityView:
    community_id = new_id()
    created = now()
    base: Doc = {
        "_id": community_id,
        "name": body.name,
        "purpose": body.purpose,
        "description": body.description,
        "tags": sorted(set(body.tags)),
        "visibility": body.visibility.value,
        "join_policy": body.join_policy.value,
        "archived": False,
        "owners": [user.sub],
        "facilitators": [],
        "code_of_conduct": (
            {"version": 1, "text": body.code_of_conduct, "published_at": created, "published_by": user.sub}
            if body.code_of_conduct
            else None
        ),
        "search_terms": _terms(body.name, body.purpose, body.tags),
        "created_by": user.sub,
        "created_at": created,
        "updated_at": created,
    }
    # The creator's membership first: if we crash before the community exists,
    # an orphan membership of a non-existent community is harmless.
    accepted = {"coc_version_accepted": 1} if body.code_of_conduct else {}
    await ctx.repo.ensure_active_membership(community_id, user.sub, via="creation", extra=accepted)
    wanted = body.slug or slugify(body.name)
    for attempt in range(SLUG_ATTEMPTS):
        slug = wanted if attempt == 0 else f"{wanted}-{new_id()[-6:]}"
        doc = {**base, "slug": slug}
        entries = [
            ctx.message(CommunityCreated(community=snapshot(doc), created_by=user.sub), community_id),
            ctx.message(
                MemberJoined(
                    community_id=community_id,
                    user_id=user.sub,
                    role=Role.OWNER.value,
                    via="creation",
                    display_name=user.name,
                    community_visibility=body.visibility.value,
                ),
                community_id,
            ),
        ]
        inserted = await ctx.repo.insert_community(doc, entries)
        if inserted is not None:
            await ctx.announce(ctx.repo.communities, inserted)
            return _creator_view(inserted, user)
        if body.slug:  # the caller chose it: tell them, don't invent another
            raise Conflict(f"the slug '{body.slug}' is taken")
    raise Conflict("could not find a free slug; give one explicitly")


def _creator_view(community: Doc, user: Principal) -> CommunityView:
    viewer = Viewer(user_id=user.sub, status=MemberStatus.ACTIVE, role=Role.OWNER)
    view = community_view(community, viewer, member_count=1)
    coc = community.get("code_of_conduct")
    view.my_code_of_conduct_version = coc["version"] if coc else None
    return view


async def get_community(ctx: Context, user: Principal, community_id: str) -> CommunityView:
    community, viewer = await ctx.community_for(community_id, user.sub)
    count = await ctx.member_counts.get(community_id) if can_see_details(community, viewer) else None
    view = community_view(community, viewer, count)
    view.my_code_of_conduct_version = viewer.conduct_version_accepted
    return view


async def directory(
    ctx: Context, user: Principal, *, q: str | None, tag: str | None, cursor: str | None, limit: int
) -> Page[CommunityView]:
    after = decode_cursor(cursor, {"slug": str})
    mine = await ctx.repo.active_community_ids(user.sub)
    docs = await ctx.repo.directory_page(
        my_community_ids=mine,
        terms=query_terms(q or ""),
        tag=tag.strip().lower() if tag else None,
        after_slug=after["slug"] if after else None,
        limit=limit + 1,
    )
    docs, next_cursor = split_page(docs, limit, lambda d: {"slug": d["slug"]})
    mine_set = set(mine)
    items = []
    for doc in docs:
        member = doc["_id"] in mine_set
        viewer = Viewer(
            user_id=user.sub,
            status=MemberStatus.ACTIVE if member else None,
            role=role_in(doc, user.sub) if member else None,
        )
        items.append(community_view(doc, viewer))
    return Page[CommunityView](items=items, next_cursor=next_cursor)


async def update_community(ctx: Context, user: Principal, community_id: str, body: CommunityUpdate) -> CommunityView:
    async def plan(community: Doc, viewer: Viewer) -> tuple[Doc, list[Outgoing]] | None:
        ctx.require_staff(viewer)
        ctx.require_open(community)
        changes: Doc = {}
        for field in body.model_fields_set:
            value: Any = getattr(body, field)
            value = value.value if hasattr(value, "value") else value
            if field == "tags":
                value = sorted(set(value))
            if community.get(field) != value:
                changes[field] = value
        if not changes:
            return None
        merged = {**community, **changes}
        changes["search_terms"] = _terms(merged["name"], merged["purpose"], merged.get("tags", []))
        changes["updated_at"] = now()
        changed = sorted(k for k in changes if k not in {"search_terms", "updated_at"})
        entry = ctx.message(
            CommunityUpdated(community=snapshot(merged), changed=changed, updated_by=user.sub), community_id
        )
        return {"$set": changes}, [entry]

    written = await ctx.mutate_community(community_id, user.sub, plan)
    return await _view_after(ctx, written, user)


async def archive_community(ctx: Context, user: Principal, community_id: str) -> CommunityView:
    async def plan(community: Doc, viewer: Viewer) -> tuple[Doc, list[Outgoing]] | None:
        ctx.require_owner(viewer)
        if community.get("archived"):
            return None  # archiving twice is a no-op, not an error
        merged = {**community, "archived": True}
        entry = ctx.message(CommunityArchived(community=snapshot(merged), archived_by=user.sub), community_id)
        return {"$set": {"archived": True, "archived_at": now(), "updated_at": now()}}, [entry]

    written = await ctx.mutate_community(community_id, user.sub, plan)
    return await _view_after(ctx, written, user)


async def publish_code_of_conduct(
    ctx: Context, user: Principal, community_id: str, body: CodeOfConductPublish
) -> CodeOfConductView:
    async def plan(community: Doc, viewer: Viewer) -> tuple[Doc, list[Outgoing]] | None:
        ctx.require_staff(viewer)
        ctx.require_open(community)
        current = community.get("code_of_conduct")
        if current and current["text"] == body.text:
            return None
        version = (current["version"] if current else 0) + 1
        coc = {"version": version, "text": body.text, "published_at": now(), "published_by": user.sub}
        entry = ctx.message(
            CodeOfConductPublished(community_id=community_id, version=version, text=body.text, published_by=user.sub),
            community_id,
        )
        return {"$set": {"code_of_conduct": coc, "updated_at": now()}}, [entry]

    written = await ctx.mutate_community(community_id, user.sub, plan)
    return CodeOfConductView(**written["code_of_conduct"])


async def _view_after(ctx: Context, community: Doc, user: Principal) -> CommunityView:
    return await get_community(ctx, user, community["_id"])
