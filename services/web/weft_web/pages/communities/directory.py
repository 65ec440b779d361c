"""`/communities`: the directory (search, tags, keyset paging) and `/communities/new`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.communities.community_form import (
    API_FIELDS,
    join_policy_options,
    read_community_form,
    visibility_options,
)
from weft_web.rendering import render

router = APIRouter()

SearchText = Annotated[str, Query(max_length=200)]
TagText = Annotated[str, Query(max_length=40)]
CursorText = Annotated[str, Query(max_length=512)]


@router.get("/communities", name="communities")
async def directory(
    request: Request, person: Person, api: Api, q: SearchText = "", tag: TagText = "", cursor: CursorText = ""
) -> Response:
    q, tag = q.strip(), tag.strip().lower()
    try:
        page = await api.get("/v1/communities", q=q, tag=tag, cursor=cursor, limit=20)
    except ApiError as error:
        if error.status != 422:
            raise
        # A search the API refuses (e.g. a stale cursor) is shown beside the search box.
        page = {"items": [], "next_cursor": None}
        problem = error.fields.get("q") or error.fields.get("tag") or error.detail
        return render(
            request,
            "pages/communities/directory.html",
            {"section": "communities", "page": page, "q": q, "tag": tag, "search_error": problem},
            status_code=422,
        )
    context = {"section": "communities", "page": page, "q": q, "tag": tag, "search_error": None}
    return render(request, "pages/communities/directory.html", context)


def _new_form(request: Request, values: dict[str, str], errors: FormErrors | None, status_code: int = 200) -> Response:
    context = {
        "section": "communities",
        "values": values,
        "errors": errors.messages if errors else {},
        "visibilities": visibility_options(),
        "join_policies": join_policy_options(),
    }
    return render(request, "pages/communities/new.html", context, status_code=status_code)


@router.get("/communities/new", name="community_new")
async def new_community(request: Request, person: Person) -> Response:
    return _new_form(request, {"visibility": "public", "join_policy": "open"}, None)


@router.post("/communities/new")
async def create_community(request: Request, person: Person, api: Api) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    body, errors = read_community_form(form, creating=True)
    if errors:
        return _new_form(request, values, errors, status_code=422)
    try:
        created = await api.post("/v1/communities", body)
    except ApiError as error:
        if error.status not in (409, 422):
            raise
        refused = FormErrors.from_api(error, API_FIELDS)
        if error.status == 409 and not error.fields:
            refused = FormErrors()
            refused.add("slug", _("That web address is taken: choose another slug."))
        return _new_form(request, values, refused, status_code=422)
    return flash.redirect(
        request, f"/communities/{created['id']}", _("%(name)s is created: you are its owner.", name=created["name"])
    )
