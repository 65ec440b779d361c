"""The create and edit forms of a community: what a person types, checked, as the API's body."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from weft_web.forms import FieldError, FormErrors, clean_line, clean_text
from weft_web.i18n import _

_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?\Z")
_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _-]{0,39}\Z")
VISIBILITIES = ("public", "private", "hidden")
JOIN_POLICIES = ("open", "approval", "invite")
# The API's names for the form's fields, so its refusals land beside the right field.
API_FIELDS = {f: f for f in ("name", "slug", "purpose", "description", "tags", "visibility", "join_policy")}
API_FIELDS["code_of_conduct"] = "code_of_conduct"


def visibility_options() -> list[tuple[str, str]]:
    return [
        ("public", _("Public: anyone signed in can see it and its members")),
        ("private", _("Private: others see its name and purpose only")),
        ("hidden", _("Hidden: only members know it exists")),
    ]


def join_policy_options() -> list[tuple[str, str]]:
    return [
        ("open", _("Open: anyone can join")),
        ("approval", _("Approval: people ask, a facilitator approves")),
        ("invite", _("Invitation only")),
    ]


def clean_slug(value: str) -> str:
    value = value.strip()
    if value and not _SLUG.match(value):
        raise FieldError(_("Use lower-case letters, digits and hyphens (not at the start or end), at most 60."))
    return value


def clean_tags(value: str) -> list[str]:
    tags = [t.strip().lower() for t in value.split(",") if t.strip()]
    if len(tags) > 20:
        raise FieldError(_("Use at most 20 tags."))
    for tag in tags:
        if not _TAG.match(tag):
            raise FieldError(_("Tag “%(tag)s”: use letters, digits, spaces, - or _, at most 40.", tag=tag[:40]))
    return list(dict.fromkeys(tags))


def clean_choice(value: str, *, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise FieldError(_("Choose one of the options."))
    return value


def read_community_form(form: Mapping[str, Any], *, creating: bool) -> tuple[dict[str, Any], FormErrors]:
    """The API body (create or patch) and the problems found, one per field."""
    errors = FormErrors()
    text = {k: str(form.get(k, "")) for k in (*API_FIELDS, "tags")}
    body: dict[str, Any] = {
        "name": errors.check("name", clean_line, text["name"], label=_("Name"), max_length=120),
        "purpose": errors.check(
            "purpose", clean_text, text["purpose"], label=_("Purpose"), max_length=500, required=True
        ),
        "description": errors.check(
            "description", clean_text, text["description"], label=_("Description"), max_length=5000
        ),
        "tags": errors.check("tags", clean_tags, text["tags"]),
        "visibility": errors.check("visibility", clean_choice, text["visibility"], choices=VISIBILITIES),
        "join_policy": errors.check("join_policy", clean_choice, text["join_policy"], choices=JOIN_POLICIES),
    }
    if "name" not in errors.messages and len(body["name"]) < 3:
        errors.add("name", _("Use at least 3 characters."))
    if creating:
        slug = errors.check("slug", clean_slug, text["slug"])
        if slug:
            body["slug"] = slug
        conduct = errors.check(
            "code_of_conduct", clean_text, text["code_of_conduct"], label=_("Code of conduct"), max_length=20_000
        )
        if conduct:
            body["code_of_conduct"] = conduct
    return body, errors


def form_values(community: Mapping[str, Any]) -> dict[str, str]:
    """A community as the edit form shows it."""
    return {
        "name": str(community.get("name", "")),
        "purpose": str(community.get("purpose", "")),
        "description": str(community.get("description") or ""),
        "tags": ", ".join(community.get("tags") or []),
        "visibility": str(community.get("visibility", "public")),
        "join_policy": str(community.get("join_policy", "open")),
    }
