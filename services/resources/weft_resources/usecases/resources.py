"""Library items of kind `link` and `note`: creating, reading, editing and listing them.
`visible_resource`, `editable_resource` and `resource_view` are what every other use
case on items (files, curation, sharing, versions) finds and shows an item with."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from weft_resources.domain.documents import Doc
from weft_resources.domain.markdown import render_off_loop
from weft_resources.domain.resources import (
    ResourceKind,
    ReviewStatus,
    VersionChange,
    Visibility,
    may_edit,
    status_change_problem,
)
from weft_resources.messages import resource_snapshot
from weft_resources.schemas import ResourceCreate, ResourcePage, ResourceUpdate, ResourceView
from weft_resources.storage.items import Stream, own_stream, shared_stream
from weft_resources.storage.versions import version_key
from weft_resources.usecases.access import Sight, announce, known_community, posting_community, sight_of
from weft_resources.usecases.context import ResourcesContext
from weft_shared.contracts.resources import (
    ResourceCreated,
    ResourcePublished,
    ResourceUpdated,
    ResourceVersionAdded,
)
from weft_shared.errors import Forbidden, NotFound, Problem
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.ids import new_id
from weft_shared.storage.unit_of_work import Transaction

NOT_FOUND = "no such resource"
# The fields a PATCH may set, as stored (`text` is stored as the note's Markdown and HTML).
CATALOGUE_FIELDS = ("title", "summary", "tags", "authors", "licence", "source", "visibility", "status", "url")


def invalid(field: str, message: str) -> Problem:
    return Problem(message, status=422, errors=[{"field": field, "message": message}])


# -- finding and showing an item ---------------------------------------------------


async def visible_resource(ctx: ResourcesContext, person: Person, resource_id: str) -> tuple[Doc, Sight]:
    """The item, if `person` may see it (else the same 404 as an unknown id)."""
    sight = await sight_of(ctx, person.id)
    item = await ctx.storage.items.get(resource_id)
    if item is None or not await sight.can_see_resource(item):
        raise NotFound(NOT_FOUND)
    return item, sight


async def changeable_resource(ctx: ResourcesContext, person: Person, resource_id: str) -> tuple[Doc, Sight]:
    """The item, if `person` may change it: its creator (still able to post in the community)
    or the community's owners and facilitators; 404 if they may not see it, else 403. Read only."""
    item, sight = await visible_resource(ctx, person, resource_id)
    community_id = item["community_id"]
    community = await sight.community(community_id)
    if community is not None and community.get("archived"):
        raise Forbidden("the community is archived: its library cannot change")
    staff = sight.standing.is_staff(community_id)
    if not may_edit(item, person.id, staff=staff, may_post=await sight.may_post(community_id)):
        raise Forbidden("only the item's creator and the community's owners and facilitators can change it")
    return item, sight


async def editable_resource(ctx: ResourcesContext, person: Person, resource_id: str) -> tuple[Doc, Sight]:
    """`changeable_resource`, in the transaction that changes the item."""
    item, sight = await changeable_resource(ctx, person, resource_id)
    # The edit relies on the membership (or role): a racing removal and this edit conflict.
    await ctx.storage.membership.hold_member(item["community_id"], person.id)
    return item, sight


def resource_view(item: Doc, sight: Sight, *, with_text: bool = True) -> ResourceView:
    standing = sight.standing
    community_id = item["community_id"]
    member = standing.is_member(community_id)
    kind = item["kind"]
    return ResourceView(
        id=item["_id"],
        community_id=community_id,
        kind=kind,
        title=item["title"],
        summary=item.get("summary", ""),
        tags=list(item.get("tags", [])),
        authors=list(item.get("authors", [])),
        licence=item.get("licence"),
        source=item.get("source"),
        visibility=item["visibility"],
        status=item["status"],
        url=item.get("url"),
        text=item.get("note_markdown") if with_text and kind == ResourceKind.NOTE else None,
        note_html=item.get("note_html") if with_text and kind == ResourceKind.NOTE else None,
        file=item.get("file"),
        version=item.get("version", 1),
        shared_with=list(item.get("shared_with", [])) if member else None,
        review_by=item.get("review_by"),
        review_due=bool(item.get("review_due")),
        endorsed=item.get("endorsed"),
        useful_count=item.get("useful_count", 0),
        created_by=item["created_by"],
        created_at=item["created_at"],
        updated_by=item.get("updated_by", item["created_by"]),
        updated_at=item.get("updated_at", item["created_at"]),
        can_edit=may_edit(item, standing.user_id, staff=standing.is_staff(community_id), may_post=member),
    )


# -- new items ------------------------------------------------------------------------


class Catalogue(Protocol):
    """The catalogue fields a new item is made with (a link's or note's body, a file's form)."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def tags(self) -> Sequence[str]: ...
    @property
    def authors(self) -> Sequence[str]: ...
    @property
    def licence(self) -> str | None: ...
    @property
    def source(self) -> str | None: ...
    @property
    def visibility(self) -> str: ...
    @property
    def status(self) -> str: ...


def new_item(
    community_id: str, kind: str, details: Catalogue, *, url: str | None, by: str, at: datetime, **kind_fields: Any
) -> Doc:
    """A new item's document, version 1 (DOCUMENTS.md, `resources`); `kind_fields`: a file's `file`."""
    return {
        "_id": new_id(),
        "community_id": community_id,
        "kind": kind,
        "title": details.title,
        "summary": details.summary,
        "tags": list(dict.fromkeys(details.tags)),
        "authors": list(details.authors),
        "licence": details.licence,
        "source": details.source,
        "visibility": details.visibility,
        "status": details.status,
        "url": url,
        **kind_fields,
        "version": 1,
        "shared_with": [],
        "review_by": None,
        "review_due_for": None,
        "endorsed": None,
        "useful_count": 0,
        "comment_thread_id": None,
        "created_by": by,
        "created_at": at,
        "updated_by": by,
        "updated_at": at,
    }


def announce_created(tx: Transaction, item: Doc, by: str) -> None:
    """A new item's messages: created, and published when it is."""
    aggregate, community_id = f"resources/{item['_id']}", item["community_id"]
    snapshot = resource_snapshot(item)
    announce(tx, aggregate, community_id, ResourceCreated(resource=snapshot, created_by=by))
    if item["status"] == ReviewStatus.PUBLISHED:
        announce(tx, aggregate, community_id, ResourcePublished(resource=snapshot, published_by=by))


# -- note versions --------------------------------------------------------------------


def note_version(item: Doc, *, change: VersionChange, by: str, restored_from: int | None = None) -> Doc:
    """The version document of a note's current text (DOCUMENTS.md, `resource_versions`)."""
    text = item["note_markdown"]
    return {
        "_id": version_key(item["_id"], item["version"]),
        "resource_id": item["_id"],
        "community_id": item["community_id"],
        "number": item["version"],
        "kind": item["kind"],
        "change": change.value,
        "restored_from": restored_from,
        "created_by": by,
        "created_at": item["updated_at"],
        "title": item["title"],
        "note_markdown": text,
        "size": len(text),
    }


def check_note_text(ctx: ResourcesContext, text: str) -> None:
    limit = ctx.settings.max_note_chars
    if len(text) > limit:
        raise invalid("text", f"a note's text must be at most {limit} characters (it has {len(text)})")


def announce_version(tx: Transaction, item: Doc, by: str, restored_from: int | None = None) -> None:
    message = ResourceVersionAdded(
        resource=resource_snapshot(item), version=item["version"], restored_from=restored_from, added_by=by
    )
    announce(tx, f"resources/{item['_id']}", item["community_id"], message)


# -- use cases ------------------------------------------------------------------------


def _check_kind_fields(kind: str, sent: set[str], body: ResourceCreate | ResourceUpdate) -> None:
    if kind == ResourceKind.LINK:
        if "text" in sent:
            raise invalid("text", "a link has no text (notes do)")
        if isinstance(body, ResourceCreate) and body.url is None:
            raise invalid("url", "a link needs a url")
    elif kind == ResourceKind.NOTE:
        if "url" in sent:
            raise invalid("url", "a note has no url (links do)")
        if isinstance(body, ResourceCreate) and body.text is None:
            raise invalid("text", "a note needs its text")
    elif "url" in sent or "text" in sent:
        field = "url" if "url" in sent else "text"
        raise invalid(field, f"a {kind} has no {field}")


async def create_resource(
    ctx: ResourcesContext, person: Person, community_id: str, body: ResourceCreate
) -> ResourceView:
    """A link or a note in the community's library (its active members)."""
    _check_kind_fields(body.kind, body.model_fields_set, body)
    if body.text is not None:
        check_note_text(ctx, body.text)

    async def work(tx: Transaction) -> ResourceView:
        _, sight = await posting_community(ctx, person, community_id)
        item = new_item(community_id, body.kind, body, url=body.url, by=person.id, at=now())
        if body.text is not None:
            item.update(note_markdown=body.text, note_html=(await render_off_loop(body.text)))
        await ctx.storage.items.insert(item)
        if item["kind"] == ResourceKind.NOTE:
            await ctx.storage.versions.add(note_version(item, change=VersionChange.CREATED, by=person.id))
        announce_created(tx, item, person.id)
        return resource_view(item, sight)

    return await ctx.uow.run(work)


async def get_resource(ctx: ResourcesContext, person: Person, resource_id: str) -> ResourceView:
    item, sight = await visible_resource(ctx, person, resource_id)
    return resource_view(item, sight)


async def update_resource(
    ctx: ResourcesContext, person: Person, resource_id: str, body: ResourceUpdate
) -> ResourceView:
    """Change an item's details; a note's changed text is a new version."""
    sent = set(body.model_fields_set)
    if body.text is not None:
        check_note_text(ctx, body.text)

    async def work(tx: Transaction) -> ResourceView:
        item, sight = await editable_resource(ctx, person, resource_id)
        _check_kind_fields(item["kind"], sent, body)
        wanted: dict[str, Any] = {name: getattr(body, name) for name in CATALOGUE_FIELDS if name in sent}
        if "tags" in wanted:
            wanted["tags"] = list(dict.fromkeys(wanted["tags"]))
        if "status" in wanted:
            problem = status_change_problem(item["status"], wanted["status"])
            if problem is not None:
                raise invalid("status", problem)
        changed = sorted(name for name, value in wanted.items() if item.get(name) != value)
        fields = {name: wanted[name] for name in changed}
        new_text = "text" in sent and body.text != item.get("note_markdown")
        if new_text:
            assert body.text is not None  # never null (ResourceUpdate)
            fields.update(note_markdown=body.text, note_html=(await render_off_loop(body.text)))
            changed.append("text")
        if not changed:
            return resource_view(item, sight)
        fields.update(updated_by=person.id, updated_at=now())
        written = await ctx.storage.items.update(resource_id, fields=fields, inc={"version": 1} if new_text else None)
        aggregate, community_id = f"resources/{resource_id}", item["community_id"]
        snapshot = resource_snapshot(written)
        announce(tx, aggregate, community_id, ResourceUpdated(resource=snapshot, changed=changed, updated_by=person.id))
        if new_text:
            await ctx.storage.versions.add(note_version(written, change=VersionChange.EDITED, by=person.id))
            announce_version(tx, written, person.id)
        if "status" in changed and written["status"] == ReviewStatus.PUBLISHED:
            announce(tx, aggregate, community_id, ResourcePublished(resource=snapshot, published_by=person.id))
        return resource_view(written, sight)

    return await ctx.uow.run(work)


# -- the library of a community ----------------------------------------------------------


def encode_library_cursor(item: Doc) -> str:
    return encode_cursor({"created_at": item["created_at"], "id": item["_id"]})


def decode_library_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    key = decode_cursor(cursor, {"created_at": datetime, "id": str})
    return (key["created_at"], key["id"]) if key is not None else None


async def library_streams(
    ctx: ResourcesContext, sight: Sight, community_id: str, *, status: str, kind: str | None, tag: str | None
) -> list[Stream]:
    """What the library of `community_id` is made of, for this caller: its own items (the
    visibilities they may see), the `partners` items of the communities linked with it
    that the caller may see, and the items explicitly shared with it."""
    standing = sight.standing
    if standing.is_member(community_id):
        own = [v.value for v in Visibility]
    elif community_id in standing.partner_of:
        own = [Visibility.PARTNERS.value, Visibility.NETWORK.value]
    else:
        own = [Visibility.NETWORK.value]
    streams = [own_stream(community_id, status, v, kind=kind, tag=tag) for v in own]
    if status == ReviewStatus.DRAFT:
        # A draft is seen only inside its community (its creator and staff): none come from elsewhere.
        return streams if standing.is_member(community_id) else []
    for linked in await ctx.storage.membership.linked_for_resources_with(community_id):
        if standing.is_member(linked) or linked in standing.partner_of:
            streams.append(own_stream(linked, status, Visibility.PARTNERS.value, kind=kind, tag=tag))
    streams.append(shared_stream(community_id, status, kind=kind, tag=tag))
    return streams


async def list_library(
    ctx: ResourcesContext,
    person: Person,
    community_id: str,
    *,
    status: str,
    kind: str | None,
    tag: str | None,
    cursor: str | None,
    limit: int,
) -> ResourcePage:
    """Keyset pages of the community's library, newest first, only what the caller may see."""
    after = decode_library_cursor(cursor)
    _, sight = await known_community(ctx, person, community_id)
    streams = await library_streams(ctx, sight, community_id, status=status, kind=kind, tag=tag)
    visible: list[Doc] = []
    more = False
    while streams:
        batch = await ctx.storage.items.page(streams, after=after, limit=limit + 1)
        for item in batch:
            if len(visible) == limit:
                more = True
                break
            after = (item["created_at"], item["_id"])
            if (kind is None or item["kind"] == kind) and await sight.can_see_resource(item):
                visible.append(item)
        if more or len(batch) <= limit:
            break
    next_cursor = encode_library_cursor(visible[-1]) if more and visible else None
    return ResourcePage(items=[resource_view(i, sight, with_text=False) for i in visible], next_cursor=next_cursor)
