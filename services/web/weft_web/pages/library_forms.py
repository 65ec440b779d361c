"""The library's forms (a note, a link, a file's details): checked here, named beside each field.

What the API still refuses comes back with its field names (`metadata.title` for an upload);
`API_FIELDS` maps them onto the form's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from weft_web.forms import FieldError, FormErrors, clean_line, clean_text
from weft_web.i18n import _

_TAG = re.compile(r"^\w+(-\w+)*$")
VISIBILITIES = ("community", "partners", "network")
KINDS = ("note", "link", "file")

# API field -> form field, for links, notes and uploads (whose fields sit under `metadata.`).
API_FIELDS = {
    **{name: name for name in ("title", "summary", "tags", "visibility", "status", "url", "text", "file")},
    **{f"metadata.{name}": name for name in ("title", "summary", "tags", "visibility", "status")},
}


def visibility_options() -> list[tuple[str, str]]:
    return [
        ("community", _("Members of this community")),
        ("partners", _("Also partner communities that share resources")),
        ("network", _("Everyone signed in to the network")),
    ]


def status_options() -> list[tuple[str, str]]:
    return [("published", _("Publish now")), ("draft", _("Save as a draft (only you and the facilitators see it)"))]


def kind_label(kind: str) -> str:
    return {"note": _("Note"), "link": _("Link"), "file": _("File")}.get(kind, kind)


def clean_tags(value: str, *, label: str) -> list[str]:
    """ "Falls, hand-hygiene" -> ["falls", "hand-hygiene"]; at most 20 words-with-hyphens."""
    tags: list[str] = []
    for raw in value.split(","):
        tag = raw.strip().lower().replace(" ", "-")
        if not tag:
            continue
        if len(tag) > 40 or not _TAG.match(tag):
            raise FieldError(_("Use letters, numbers and hyphens in a tag, like falls-prevention."))
        if tag not in tags:
            tags.append(tag)
    if len(tags) > 20:
        raise FieldError(_("Use at most 20 tags."))
    return tags


def item_details(form: Mapping[str, Any], errors: FormErrors) -> dict[str, Any]:
    """The fields every kind has: title, summary, tags, visibility, status."""
    visibility = str(form.get("visibility", "community"))
    status = str(form.get("status", "published"))
    if visibility not in VISIBILITIES:
        errors.add("visibility", _("Choose who may see it."))
    if status not in ("published", "draft"):
        errors.add("status", _("Choose whether to publish it now."))
    return {
        "title": errors.check("title", clean_line, str(form.get("title", "")), label=_("Title")),
        "summary": errors.check(
            "summary", clean_text, str(form.get("summary", "")), label=_("Summary"), max_length=2000
        ),
        "tags": errors.check("tags", clean_tags, str(form.get("tags", "")), label=_("Tags")),
        "visibility": visibility,
        "status": status,
    }


def form_values(form: Mapping[str, Any]) -> dict[str, str]:
    """What the person typed, to show again in a refused form (never the file)."""
    return {key: value for key, value in form.items() if isinstance(value, str) and key != "csrf_token"}
