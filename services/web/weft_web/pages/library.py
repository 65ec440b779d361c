"""`/communities/{id}/library`: the community's library, its filters and paging, and adding to it
(a note, a link, or a file uploaded with a progress bar)."""

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
from weft_web.pages.file_transfer import chosen_file, forward_upload
from weft_web.pages.library_forms import (
    API_FIELDS,
    KINDS,
    form_values,
    item_details,
    kind_label,
    status_options,
    visibility_options,
)
from weft_web.rendering import render

router = APIRouter()

PAGE_SIZE = 20
_FILTER_FIELDS = {"kind": "kind", "tag": "tag", "status": "status"}


def _filters(request: Request) -> dict[str, str]:
    query = request.query_params
    return {
        "kind": query.get("kind", "") if query.get("kind", "") in KINDS else "",
        "tag": query.get("tag", "").strip().lower()[:40],
        "status": query.get("status", "") if query.get("status", "") in ("draft", "archived") else "",
    }


@router.get("/communities/{community_id}/library", name="library")
async def library(request: Request, community_id: str, person: Person, api: Api) -> Response:
    frame = await community_frame(api, community_id)
    filters = _filters(request)
    cursor = request.query_params.get("cursor") or None
    errors = FormErrors()
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    try:
        page = await api.get(
            f"/v1/communities/{frame.id}/resources",
            kind=filters["kind"] or None,
            tag=filters["tag"] or None,
            status=filters["status"] or "published",
            cursor=cursor,
            limit=PAGE_SIZE,
        )
    except ApiError as exc:
        if exc.status not in (400, 403, 422):
            raise
        errors = FormErrors.from_api(exc, _FILTER_FIELDS)
    recommended: list[dict[str, Any]] = []
    if not cursor and not any(filters.values()):
        recommended = (await api.get(f"/v1/communities/{frame.id}/resources/recommended", limit=5))["items"]
    next_query = None
    if page.get("next_cursor"):
        next_query = {**{k: v for k, v in filters.items() if v}, "cursor": page["next_cursor"]}
    return render(
        request,
        "pages/library.html",
        {
            **frame.context("library"),
            "items": page["items"],
            "recommended": recommended,
            "next_query": next_query,
            "first_page": cursor is None,
            "filters": filters,
            "errors": errors.messages,
            "values": filters,
            "kind_label": kind_label,
        },
        status_code=422 if errors else 200,
    )


def _render_new(
    request: Request,
    frame: CommunityFrame,
    kind: str,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "pages/library_new.html",
        {
            **frame.context("library"),
            "kind": kind,
            "errors": errors.messages if errors else {},
            "values": values or {"visibility": "community", "status": "published"},
            "visibility_options": visibility_options(),
            "status_options": status_options(),
        },
        status_code=422 if errors else 200,
    )


@router.get("/communities/{community_id}/library/new", name="library_new")
async def new_item(request: Request, community_id: str, person: Person, api: Api) -> Response:
    frame = await community_frame(api, community_id)
    kind = request.query_params.get("kind", "note")
    return _render_new(request, frame, kind if kind in KINDS else "note")


@router.post("/communities/{community_id}/library/new/{kind}", name="library_create")
async def create_item(request: Request, community_id: str, kind: str, person: Person, api: Api) -> Response:
    if kind not in KINDS:
        return flash.redirect(request, f"/communities/{community_id}/library/new")
    frame = await community_frame(api, community_id)
    form = await request.form()
    errors = FormErrors()
    details = item_details(form, errors)
    upload = None
    if kind == "note":
        details["text"] = errors.check(
            "text", clean_text, str(form.get("text", "")), label=_("Text"), required=True, max_length=100_000
        )
    elif kind == "link":
        url = errors.check("url", clean_line, str(form.get("url", "")), label=_("Web address"), max_length=2000)
        if isinstance(url, str) and url and not url.lower().startswith(("http://", "https://")):
            errors.add("url", _("Enter a web address starting with https:// or http://."))
        details["url"] = url
    else:
        upload = chosen_file(form.get("file"))
        if upload is None:
            errors.add("file", _("Choose a file to upload."))
    if errors:
        return _render_new(request, frame, kind, errors, form_values(form))
    try:
        if upload is not None:
            item = await forward_upload(api, f"/v1/communities/{frame.id}/resources/files", upload, details)
        else:
            item = await api.post(f"/v1/communities/{frame.id}/resources", {"kind": kind, **details})
    except ApiError as exc:
        if exc.status not in (403, 409, 413, 415, 422):
            raise
        return _render_new(request, frame, kind, upload_errors(exc), form_values(form))
    return flash.redirect(request, f"/resources/{item['id']}", _("Added to the library."))


def upload_errors(exc: ApiError) -> FormErrors:
    """The API's refusal beside its field; a too-large or unaccepted file in words a person reads."""
    if exc.status == 413:
        errors = FormErrors()
        errors.add("file", _("This file is too large for the library. Upload a smaller file."))
        return errors
    if exc.status == 415:
        errors = FormErrors()
        errors.add(
            "file",
            _("The library does not accept this kind of file. Upload a PDF, image, office document or text."),
        )
        return errors
    return FormErrors.from_api(exc, API_FIELDS)
