"""`/resources/{id}/edit`: change an item's details; a note's new text becomes its next version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_line, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.community_frame import community_frame
from weft_web.pages.library_forms import API_FIELDS, clean_tags, form_values, visibility_options
from weft_web.rendering import render

router = APIRouter()


async def _edit_page(
    request: Request,
    api: Api,
    item: dict[str, Any],
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    frame = await community_frame(api, item["community_id"])
    current = {
        "title": item["title"],
        "summary": item["summary"],
        "tags": ", ".join(item["tags"]),
        "visibility": item["visibility"],
        "text": item.get("text") or "",
        "url": item.get("url") or "",
    }
    return render(
        request,
        "pages/resource_edit.html",
        {
            **frame.context("library"),
            "item": item,
            "errors": errors.messages if errors else {},
            "values": values or current,
            "visibility_options": visibility_options(),
        },
        status_code=422 if errors else 200,
    )


@router.get("/resources/{resource_id}/edit", name="resource_edit")
async def edit(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    return await _edit_page(request, api, await api.get(f"/v1/resources/{resource_id}"))


@router.post("/resources/{resource_id}/edit", name="resource_save")
async def save(request: Request, resource_id: str, person: Person, api: Api) -> Response:
    item = await api.get(f"/v1/resources/{resource_id}")
    form = await request.form()
    errors = FormErrors()
    changes: dict[str, Any] = {
        "title": errors.check("title", clean_line, str(form.get("title", "")), label=_("Title")),
        "summary": errors.check(
            "summary", clean_text, str(form.get("summary", "")), label=_("Summary"), max_length=2000
        ),
        "tags": errors.check("tags", clean_tags, str(form.get("tags", "")), label=_("Tags")),
    }
    visibility = str(form.get("visibility", item["visibility"]))
    if visibility not in ("community", "partners", "network"):
        errors.add("visibility", _("Choose who may see it."))
    changes["visibility"] = visibility
    if item["kind"] == "note":
        text = errors.check(
            "text", clean_text, str(form.get("text", "")), label=_("Text"), required=True, max_length=100_000
        )
        if text != (item.get("text") or ""):
            changes["text"] = text  # only a changed text makes a new version
    elif item["kind"] == "link":
        changes["url"] = errors.check(
            "url", clean_line, str(form.get("url", "")), label=_("Web address"), max_length=2000
        )
    if errors:
        return await _edit_page(request, api, item, errors, form_values(form))
    try:
        await api.patch(f"/v1/resources/{resource_id}", changes)
    except ApiError as exc:
        if exc.status not in (403, 409, 422):
            raise
        return await _edit_page(request, api, item, FormErrors.from_api(exc, API_FIELDS), form_values(form))
    return flash.redirect(request, f"/resources/{resource_id}", _("Your changes are saved."))
