"""`/resources/{id}`: one library item (a note's HTML, a link, a file to download), its versions,
"useful" marks, and the curation its community's facilitators do (publish, archive, review-by,
endorse, share with partner communities)."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import community_frame
from weft_web.pages.file_transfer import chosen_file, forward_upload, relay_download
from weft_web.pages.library import upload_errors
from weft_web.pages.library_forms import kind_label
from weft_web.pages.safe_html import note_html
from weft_web.rendering import render

router = APIRouter()


async def _partners(api: Api, community_id: str) -> list[dict[str, Any]]:
    """Communities linked with this one to share resources (where an item may be shared)."""
    try:
        links = await api.get(f"/v1/communities/{community_id}/links")
    except ApiError:
        return []
    partners = []
    for link in links:
        if link.get("status") != "active" or not link.get("share_resources"):
            continue
        other = link["to_community_id"] if link.get("from_community_id") == community_id else link["from_community_id"]
        if not other:
            continue
        try:
            partners.append(await api.get(f"/v1/communities/{other}"))
        except ApiError:
            continue
    return partners


async def _resource_page(
    request: Request, api: Api, resource_id: str, *, errors: FormErrors | None = None, status_code: int = 200
) -> Response:
    item = await api.get(f"/v1/resources/{resource_id}")
    frame = await community_frame(api, item["community_id"])
    curation = await api.get(f"/v1/resources/{resource_id}/curation")
    try:
        versions = (await api.get(f"/v1/resources/{resource_id}/versions", limit=50))["items"]
    except ApiError as exc:
        if exc.status not in (403, 404):
            raise
        versions = []
    partners = await _partners(api, frame.id) if frame.is_staff else []
    shared = set(item.get("shared_with") or [])
    return render(
        request,
        "pages/resource.html",
        {
            **frame.context("library"),
            "item": item,
            "curation": curation,
            "versions": versions,
            "note": note_html(item.get("note_html")),
            "kind_label": kind_label,
            "partners": [p for p in partners if p["id"] not in shared],
            "shared": [p for p in partners if p["id"] in shared],
            "errors": errors.messages if errors else {},
            "values": {"review_by": (curation.get("review_by") or "")[:10]},
        },
        status_code=status_code,
    )


@router.get("/resources/{resource_id}", name="resource")
async def resource(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    return await _resource_page(request, api, resource_id)


@router.get("/resources/{resource_id}/download", name="resource_download")
async def download(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    return await relay_download(request, api, f"/v1/resources/{resource_id}/file")


@router.get("/resources/{resource_id}/versions/{number}/download", name="resource_version_download")
async def download_version(request: Request, resource_id: str, number: int, person: Person, api: Api) -> Response:
    return await relay_download(request, api, f"/v1/resources/{resource_id}/versions/{number}/file")


@router.get("/resources/{resource_id}/versions/{number}", name="resource_version")
async def version(request: Request, resource_id: str, number: int, person: Person, api: Api) -> Response:
    item = await api.get(f"/v1/resources/{resource_id}")
    frame = await community_frame(api, item["community_id"])
    found = await api.get(f"/v1/resources/{resource_id}/versions/{number}")
    return render(
        request,
        "pages/resource_version.html",
        {**frame.context("library"), "item": item, "version": found, "note": note_html(found.get("note_html"))},
    )


async def _act(request: Request, resource_id: str, call: Awaitable[Any], done: str) -> Response:
    """Do one curation step; a refusal (not allowed now, a conflict) comes back as the page's message."""
    back = f"/resources/{resource_id}"
    try:
        await call
    except ApiError as exc:
        if exc.status not in (403, 409, 422):
            raise
        return flash.redirect(
            request, back, exc.detail if exc.status != 403 else _("You may not do that."), level="error"
        )
    return flash.redirect(request, back, done)


@router.post("/resources/{resource_id}/useful", name="resource_useful")
async def mark_useful(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    form = await request.form()
    if form.get("undo"):
        return await _act(
            request, resource_id, api.delete(f"/v1/resources/{resource_id}/useful"), _("Your mark is removed.")
        )
    return await _act(request, resource_id, api.put(f"/v1/resources/{resource_id}/useful"), _("Marked as useful."))


@router.post("/resources/{resource_id}/publish", name="resource_publish")
async def publish(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    return await _act(request, resource_id, api.post(f"/v1/resources/{resource_id}/publish"), _("Published."))


@router.post("/resources/{resource_id}/archive", name="resource_archive")
async def archive(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    return await _act(request, resource_id, api.post(f"/v1/resources/{resource_id}/archive"), _("Archived."))


@router.post("/resources/{resource_id}/endorsement", name="resource_endorse")
async def endorse(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    form = await request.form()
    if form.get("undo"):
        call = api.delete(f"/v1/resources/{resource_id}/endorsement")
        return await _act(request, resource_id, call, _("The endorsement is withdrawn."))
    call = api.put(f"/v1/resources/{resource_id}/endorsement")
    return await _act(request, resource_id, call, _("Endorsed: it shows as recommended."))


@router.post("/resources/{resource_id}/review-by", name="resource_review_by")
async def review_by(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    form = await request.form()
    if form.get("undo"):
        call = api.delete(f"/v1/resources/{resource_id}/review-by")
        return await _act(request, resource_id, call, _("The review date is cleared."))
    raw = str(form.get("review_by", "")).strip()
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        errors = FormErrors()
        errors.add("review_by", _("Enter a date like 2027-03-31."))
        return await _resource_page(request, api, resource_id, errors=errors, status_code=422)
    call = api.put(f"/v1/resources/{resource_id}/review-by", {"review_by": day.isoformat()})
    return await _act(request, resource_id, call, _("The review date is set."))


@router.post("/resources/{resource_id}/versions/{number}/restore", name="resource_restore")
async def restore(request: Request, resource_id: str, number: int, person: Person, api: Api) -> Response:
    call = api.post(f"/v1/resources/{resource_id}/versions/{number}/restore")
    return await _act(request, resource_id, call, _("Version %(n)s is restored as the newest version.", n=number))


@router.post("/resources/{resource_id}/file", name="resource_new_version")
async def new_version(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    form = await request.form()
    upload = chosen_file(form.get("file"))
    if upload is None:
        errors = FormErrors()
        errors.add("file", _("Choose a file to upload."))
        return await _resource_page(request, api, resource_id, errors=errors, status_code=422)
    try:
        await forward_upload(api, f"/v1/resources/{resource_id}/file", upload)
    except ApiError as exc:
        if exc.status not in (403, 409, 413, 415, 422):
            raise
        return await _resource_page(request, api, resource_id, errors=upload_errors(exc), status_code=422)
    return flash.redirect(request, f"/resources/{resource_id}", _("The new version is uploaded."))


@router.post("/resources/{resource_id}/shares", name="resource_share")
async def share(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    form = await request.form()
    target = quote(str(form.get("community_id", "")), safe="")
    if not target:
        return flash.redirect(request, f"/resources/{resource_id}", _("Choose a community."), level="error")
    if form.get("undo"):
        call = api.delete(f"/v1/resources/{resource_id}/shares/{target}")
        return await _act(request, resource_id, call, _("No longer shared with that community."))
    call = api.put(f"/v1/resources/{resource_id}/shares/{target}")
    return await _act(request, resource_id, call, _("Shared with the partner community."))
