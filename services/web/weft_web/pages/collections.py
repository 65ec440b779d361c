"""A community's collections: `/communities/{id}/collections` (list, create) and `/collections/{id}`
(view; edit, add, remove and reorder items for the owners and facilitators, as the API allows)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_line, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import CommunityFrame, community_frame
from weft_web.pages.library_forms import kind_label
from weft_web.rendering import render

router = APIRouter()


def _details(form: Any, errors: FormErrors) -> dict[str, Any]:
    return {
        "title": errors.check("title", clean_line, str(form.get("title", "")), label=_("Title")),
        "description": errors.check(
            "description", clean_text, str(form.get("description", "")), label=_("Description"), max_length=2000
        ),
    }


async def _list_page(
    request: Request,
    api: Api,
    frame: CommunityFrame,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    cursor = request.query_params.get("cursor") or None
    page = await api.get(f"/v1/communities/{frame.id}/collections", cursor=cursor, limit=20)
    return render(
        request,
        "pages/collections.html",
        {
            **frame.context("library"),
            "collections": page["items"],
            "next_cursor": page.get("next_cursor"),
            "first_page": cursor is None,
            "errors": errors.messages if errors else {},
            "values": values or {},
        },
        status_code=422 if errors else 200,
    )


@router.get("/communities/{community_id}/collections", name="collections")
async def collections(request: Request, community_id: str, person: Person, api: Api) -> Response:
    return await _list_page(request, api, await community_frame(api, community_id))


@router.post("/communities/{community_id}/collections", name="collection_create")
async def create_collection(request: Request, community_id: str, person: Person, api: Api) -> Response:
    frame = await community_frame(api, community_id)
    form = await request.form()
    errors = FormErrors()
    body = _details(form, errors)
    if not errors:
        try:
            made = await api.post(f"/v1/communities/{frame.id}/collections", body)
        except ApiError as exc:
            if exc.status not in (403, 422):
                raise
            errors = FormErrors.from_api(exc, {"title": "title", "description": "description"})
        else:
            return flash.redirect(request, f"/collections/{made['id']}", _("The collection is made."))
    return await _list_page(request, api, frame, errors, {k: str(v) for k, v in form.items() if isinstance(v, str)})


async def _collection_page(
    request: Request,
    api: Api,
    collection_id: str,
    errors: FormErrors | None = None,
    values: dict[str, Any] | None = None,
) -> Response:
    collection = await api.get(f"/v1/collections/{collection_id}")
    frame = await community_frame(api, collection["community_id"])
    candidates: list[dict[str, Any]] = []
    if frame.is_staff:
        inside = {item["id"] for item in collection["items"]}
        library = await api.get(f"/v1/communities/{frame.id}/resources", limit=50)
        candidates = [item for item in library["items"] if item["id"] not in inside]
    return render(
        request,
        "pages/collection.html",
        {
            **frame.context("library"),
            "collection": collection,
            "candidates": candidates,
            "kind_label": kind_label,
            "errors": errors.messages if errors else {},
            "values": values or {"title": collection["title"], "description": collection["description"]},
        },
        status_code=422 if errors else 200,
    )


@router.get("/collections/{collection_id}", name="collection")
async def collection(request: Request, collection_id: str, person: Person, api: Api) -> Response:
    return await _collection_page(request, api, collection_id)


@router.post("/collections/{collection_id}", name="collection_edit")
async def edit_collection(request: Request, collection_id: str, person: Person, api: Api) -> Response:
    form = await request.form()
    errors = FormErrors()
    body = _details(form, errors)
    if not errors:
        try:
            await api.patch(f"/v1/collections/{collection_id}", body)
        except ApiError as exc:
            if exc.status not in (403, 422):
                raise
            errors = FormErrors.from_api(exc, {"title": "title", "description": "description"})
        else:
            return flash.redirect(request, f"/collections/{collection_id}", _("The collection is saved."))
    return await _collection_page(request, api, collection_id, errors, {k: str(v) for k, v in form.items()})


@router.post("/collections/{collection_id}/items", name="collection_items")
async def change_items(request: Request, collection_id: str, person: Person, api: Api) -> Response:
    """One change to the ordered list (add, remove, move up or down), sent as the whole list."""
    form = await request.form()
    current = [item["id"] for item in (await api.get(f"/v1/collections/{collection_id}"))["items"]]
    target = str(form.get("resource_id", ""))
    action = str(form.get("action", ""))
    ids = list(current)
    if action == "add" and target and target not in ids:
        ids.append(target)
    elif target in ids:
        at = ids.index(target)
        if action == "remove":
            ids.pop(at)
        elif action == "up" and at > 0:
            ids[at - 1], ids[at] = ids[at], ids[at - 1]
        elif action == "down" and at < len(ids) - 1:
            ids[at + 1], ids[at] = ids[at], ids[at + 1]
    if ids == current:
        return flash.redirect(request, f"/collections/{collection_id}")
    try:
        await api.put(f"/v1/collections/{collection_id}/items", {"resource_ids": ids})
    except ApiError as exc:
        if exc.status not in (403, 422):
            raise
        return flash.redirect(request, f"/collections/{collection_id}", exc.detail, level="error")
    return flash.redirect(request, f"/collections/{collection_id}", _("The collection is saved."))


@router.post("/collections/{collection_id}/delete", name="collection_delete")
async def delete_collection(request: Request, collection_id: str, person: Person, api: Api) -> Response:
    found = await api.get(f"/v1/collections/{collection_id}")
    await api.delete(f"/v1/collections/{collection_id}")
    return flash.redirect(request, f"/communities/{found['community_id']}/collections", _("The collection is deleted."))
