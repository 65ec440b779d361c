"""`/people`: the people directory, "who knows about falls prevention?" by expertise tag and free
text, a page at a time (keyset: "more people" carries the API's cursor)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web.deps import Api, Person
from weft_web.forms import FieldError, FormErrors, clean_line
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.rendering import render

router = APIRouter()
PAGE_SIZE = 20


def _checked(errors: FormErrors, name: str, value: str, label: str, max_length: int) -> str | None:
    try:
        return clean_line(value, label=label, max_length=max_length, required=False) or None
    except FieldError as error:
        errors.add(name, str(error))
        return None


@router.get("/people", name="people")
async def people_page(
    request: Request, person: Person, api: Api, expertise: str = "", q: str = "", cursor: str | None = None
) -> Response:
    errors = FormErrors()
    tag = _checked(errors, "expertise", expertise, _("Expertise"), 60)
    text = _checked(errors, "q", q, _("Name, organisation or topic"), 200)
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    if not errors:
        try:
            page = await api.get("/v1/people", expertise=tag, q=text, cursor=cursor, limit=PAGE_SIZE)
        except ApiError as error:
            if error.status not in (400, 422):
                raise
            errors = FormErrors.from_api(error, {"expertise": "expertise", "q": "q", "cursor": "_form"})
    following = {"expertise": tag, "q": text, "cursor": page["next_cursor"]}
    more = "/people?" + urlencode({k: v for k, v in following.items() if v}) if page["next_cursor"] else None
    return render(
        request,
        "pages/people.html",
        {
            "section": "people",
            "people": page["items"],
            "more_url": more,
            "searched": bool(tag or text),
            "paged": bool(cursor),
            "values": {"expertise": expertise, "q": q},
            "errors": errors.messages,
        },
        status_code=422 if errors else 200,
    )
