"""`/notifications/preferences`: how each type of notification reaches the person, network-wide
and per community (muted, or a channel per type), and where and when mail goes.

The API replaces the whole document on PUT, so the form carries every part of it (a part left
out would silently go back to its default).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from weft_web import flash
from weft_web.deps import Api, Person
from weft_web.forms import FormErrors, clean_email
from weft_web.gateway import ApiError
from weft_web.i18n import _
from weft_web.rendering import render

router = APIRouter()
PREFERENCES = "/v1/me/notification-preferences"
SAME_AS_DEFAULT = "default"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def channel_names() -> dict[str, str]:
    return {
        "in_app": _("Inbox only"),
        "email": _("Email now"),
        "digest_daily": _("Daily digest"),
        "digest_weekly": _("Weekly digest"),
        "off": _("Off"),
    }


def weekday_names() -> dict[str, str]:
    names = (_("Monday"), _("Tuesday"), _("Wednesday"), _("Thursday"), _("Friday"), _("Saturday"), _("Sunday"))
    return dict(zip(WEEKDAYS, names, strict=True))


async def _load(api: Api) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    preferences, me = await asyncio.gather(api.get(PREFERENCES), api.get("/v1/me"))
    names = {c["id"]: c["name"] for c in me.get("communities", [])}
    # The person's communities, and any they chose for before leaving (kept, not dropped).
    ids = list(names) + [cid for cid in preferences["communities"] if cid not in names]
    communities = [{"id": cid, "name": names.get(cid) or _("A community you have left")} for cid in ids]
    return preferences, communities


def values_from(preferences: dict[str, Any], communities: list[dict[str, Any]]) -> dict[str, str]:
    """The form's values (field name -> value) for what is stored."""
    values = {f"default.{name}": channel for name, channel in preferences["defaults"].items()}
    for community in communities:
        chosen = preferences["communities"].get(community["id"], {"muted": False, "types": {}})
        if chosen["muted"]:
            values[f"muted.{community['id']}"] = "on"
        for kind in preferences["types"]:
            name = kind["name"]
            values[f"c.{community['id']}.{name}"] = chosen["types"].get(name, SAME_AS_DEFAULT)
    values["email"] = preferences.get("email") or ""
    values["timezone"] = preferences["timezone"]
    values["digest_hour"] = str(preferences["digest_hour"])
    values["weekly_digest_day"] = preferences["weekly_digest_day"]
    return values


def body_from(
    form: FormData, preferences: dict[str, Any], communities: list[dict[str, Any]], errors: FormErrors
) -> dict[str, Any]:
    """The whole preferences document from the form; unknown channels are refused here."""
    channels = set(preferences["channels"])
    defaults: dict[str, str] = {}
    for kind in preferences["types"]:
        chosen = str(form.get(f"default.{kind['name']}") or kind["default_channel"])
        if chosen not in channels:
            errors.add(f"default.{kind['name']}", _("Choose one of the options."))
        elif chosen != kind["default_channel"]:
            defaults[kind["name"]] = chosen
    per_community: dict[str, Any] = {}
    for community in communities:
        types: dict[str, str] = {}
        for kind in preferences["types"]:
            chosen = str(form.get(f"c.{community['id']}.{kind['name']}") or SAME_AS_DEFAULT)
            if chosen == SAME_AS_DEFAULT:
                continue
            if chosen not in channels:
                errors.add(f"c.{community['id']}.{kind['name']}", _("Choose one of the options."))
            types[kind["name"]] = chosen
        muted = form.get(f"muted.{community['id']}") == "on"
        if muted or types:
            per_community[community["id"]] = {"muted": muted, "types": types}
    body: dict[str, Any] = {"defaults": defaults, "communities": per_community}
    email = str(form.get("email") or "").strip()
    if email:
        body["email"] = errors.check("email", clean_email, email)
    body["timezone"] = str(form.get("timezone") or "").strip() or None
    hour = str(form.get("digest_hour") or "")
    if hour.isdigit() and 0 <= int(hour) <= 23:
        body["digest_hour"] = int(hour)
    else:
        errors.add("digest_hour", _("Choose an hour from 0 to 23."))
    day = str(form.get("weekly_digest_day") or "")
    if day not in WEEKDAYS:
        errors.add("weekly_digest_day", _("Choose a day of the week."))
    body["weekly_digest_day"] = day
    return body


def _page(
    request: Request,
    preferences: dict[str, Any],
    communities: list[dict[str, Any]],
    values: dict[str, str],
    errors: FormErrors | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "pages/notification_preferences.html",
        {
            "section": "notifications",
            "types": preferences["types"],
            "channels": preferences["channels"],
            "channel_names": channel_names(),
            "weekdays": weekday_names(),
            "communities": communities,
            "effective_email": preferences.get("effective_email"),
            "values": values,
            "errors": errors.messages if errors else {},
            "same_as_default": SAME_AS_DEFAULT,
        },
        status_code=status_code,
    )


@router.get("/notifications/preferences", name="notification_preferences")
async def preferences_page(request: Request, person: Person, api: Api) -> Response:
    preferences, communities = await _load(api)
    return _page(request, preferences, communities, values_from(preferences, communities))


@router.post("/notifications/preferences", name="notification_preferences_save")
async def save_preferences(request: Request, person: Person, api: Api) -> Response:
    preferences, communities = await _load(api)
    form = await request.form()
    errors = FormErrors()
    body = body_from(form, preferences, communities, errors)
    submitted = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    if not errors:
        try:
            await api.put(PREFERENCES, body)
        except ApiError as error:
            if error.status != 422:
                raise
            errors = FormErrors.from_api(error, {name: name for name in ("email", "timezone", "digest_hour")})
    if errors:
        return _page(request, preferences, communities, submitted, errors, status_code=422)
    return flash.redirect(request, "/notifications/preferences", _("Your notification preferences are saved."))
