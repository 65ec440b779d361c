"""The versions of a library item: listing them, reading one, restoring one."""

from __future__ import annotations

from weft_resources.domain.documents import Doc
from weft_resources.domain.markdown import render_off_loop
from weft_resources.domain.resources import ResourceKind, VersionChange
from weft_resources.messages import resource_snapshot
from weft_resources.schemas import ResourceView, VersionPage, VersionSummary, VersionView
from weft_resources.storage.versions import version_key
from weft_resources.usecases.access import announce
from weft_resources.usecases.context import ResourcesContext
from weft_resources.usecases.resources import (
    announce_version,
    editable_resource,
    note_version,
    resource_view,
    visible_resource,
)
from weft_shared.contracts.resources import ResourceUpdated
from weft_shared.errors import NotFound
from weft_shared.service.actor import Person
from weft_shared.service.clock import now
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.storage.unit_of_work import Transaction

NO_VERSION = "no such version"


def _summary_fields(version: Doc) -> dict[str, object]:
    file = version.get("file")
    size = version.get("size", file["size"] if file else 0)
    return {
        "number": version["number"],
        "change": version["change"],
        "restored_from": version.get("restored_from"),
        "created_by": version["created_by"],
        "created_at": version["created_at"],
        "title": version["title"],
        "size": size,
    }


async def list_versions(
    ctx: ResourcesContext, person: Person, resource_id: str, *, cursor: str | None, limit: int
) -> VersionPage:
    """Newest first: who changed what and when (the texts are on each version's own page)."""
    key = decode_cursor(cursor, {"number": int})
    await visible_resource(ctx, person, resource_id)
    found = await ctx.storage.versions.page(resource_id, before=key["number"] if key else None, limit=limit + 1)
    page = found[:limit]
    next_cursor = encode_cursor({"number": page[-1]["number"]}) if len(found) > limit else None
    return VersionPage(items=[VersionSummary(**_summary_fields(v)) for v in page], next_cursor=next_cursor)


async def get_version(ctx: ResourcesContext, person: Person, resource_id: str, number: int) -> VersionView:
    await visible_resource(ctx, person, resource_id)
    version = await ctx.storage.versions.get(resource_id, number)
    if version is None:
        raise NotFound(NO_VERSION)
    text = version.get("note_markdown")
    return VersionView(
        **_summary_fields(version),
        text=text,
        note_html=(await render_off_loop(text)) if text is not None else None,
        file=version.get("file"),
    )


async def restore_version(ctx: ResourcesContext, person: Person, resource_id: str, number: int) -> ResourceView:
    """A new version (the next number) with version `number`'s text or file; the history stays whole."""

    async def work(tx: Transaction) -> ResourceView:
        item, sight = await editable_resource(ctx, person, resource_id)
        old = await ctx.storage.versions.get(resource_id, number)
        if old is None:
            raise NotFound(NO_VERSION)
        moment = now()
        fields: Doc = {"updated_by": person.id, "updated_at": moment}
        if item["kind"] == ResourceKind.NOTE:
            fields.update(note_markdown=old["note_markdown"], note_html=(await render_off_loop(old["note_markdown"])))
            changed = ["text"]
        else:
            fields["file"] = old["file"]
            changed = ["file"]
        written = await ctx.storage.items.update(resource_id, fields=fields, inc={"version": 1})
        if item["kind"] == ResourceKind.NOTE:
            version = note_version(written, change=VersionChange.RESTORED, by=person.id, restored_from=number)
        else:
            version = {
                **{k: v for k, v in old.items() if k not in ("_id", "number", "created_by", "created_at")},
                "_id": version_key(resource_id, written["version"]),
                "number": written["version"],
                "change": VersionChange.RESTORED.value,
                "restored_from": number,
                "created_by": person.id,
                "created_at": moment,
                "title": written["title"],
            }
        await ctx.storage.versions.add(version)
        snapshot = resource_snapshot(written)
        updated = ResourceUpdated(resource=snapshot, changed=changed, updated_by=person.id)
        announce(tx, f"resources/{resource_id}", written["community_id"], updated)
        announce_version(tx, written, person.id, restored_from=number)
        return resource_view(written, sight)

    return await ctx.uow.run(work)
