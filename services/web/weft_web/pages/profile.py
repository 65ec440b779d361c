"""`/me`: the signed-in person's profile (name, organisation, bio, expertise, interests), edited
in place with each problem named beside its field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_line, clean_text
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.pages.tag_lists import join_tags, parse_tags
from weft_web.rendering import render

router = APIRouter()
# The API's field names are the form's, except that the tag lists are one line each here.
API_FIELDS = {name: name for name in ("display_name", "organisation", "bio", "expertise", "interests")}


def form_values(profile: dict[str, Any]) -> dict[str, str]:
    return {
        "display_name": profile.get("display_name") or "",
        "organisation": profile.get("organisation") or "",
        "bio": profile.get("bio") or "",
        "expertise": join_tags(profile.get("expertise") or []),
        "interests": join_tags(profile.get("interests") or []),
    }


def _page(request: Request, me: dict[str, Any], values: dict[str, str], errors: FormErrors | None = None) -> Response:
    return render(
        request,
        "pages/profile.html",
        {"section": "me", "me": me, "values": values, "errors": errors.messages if errors else {}},
        status_code=422 if errors else 200,
    )


@router.get("/me", name="profile")
async def profile_page(request: Request, person: Person, api: Api) -> Response:
    me = await api.get("/v1/me")
    return _page(request, me, form_values(me))


@router.post("/me", name="profile_save")
async def save_profile(request: Request, person: Person, api: Api) -> Response:
    form = await request.form()
    raw = {name: str(form.get(name) or "") for name in API_FIELDS}
    errors = FormErrors()
    body = {
        "display_name": errors.check(
            "display_name", clean_line, raw["display_name"], label=_("Your name"), max_length=120
        ),
        "organisation": errors.check(
            "organisation", clean_line, raw["organisation"], label=_("Organisation"), max_length=200, required=False
        ),
        "bio": errors.check("bio", clean_text, raw["bio"], label=_("About you"), max_length=2000),
        "expertise": errors.check("expertise", parse_tags, raw["expertise"], label=_("Expertise")),
        "interests": errors.check("interests", parse_tags, raw["interests"], label=_("Interests")),
    }
    if not errors:
        try:
            await api.put("/v1/me/profile", body)
        except ApiError as error:
            if error.status != 422:
                raise
            errors = FormErrors.from_api(error, _api_to_form(error))
    if errors:
        return _page(request, await api.get("/v1/me"), raw, errors)
    return flash.redirect(request, "/me", _("Your profile is saved."))


def _api_to_form(error: ApiError) -> dict[str, str]:
    """`expertise.3` (the fourth tag) is shown beside the expertise field."""
    return {name: name.split(".", 1)[0] for name in error.fields if name.split(".", 1)[0] in API_FIELDS}
