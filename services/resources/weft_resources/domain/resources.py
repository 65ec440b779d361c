"""Library items: their kinds, licences, review states and the rules of their fields. Pure."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args
from urllib.parse import urlsplit

from weft_resources.domain.documents import Doc


class ResourceKind(StrEnum):
    FILE = "file"
    LINK = "link"
    NOTE = "note"


class Visibility(StrEnum):
    COMMUNITY = "community"
    PARTNERS = "partners"
    NETWORK = "network"


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class VersionChange(StrEnum):
    CREATED = "created"
    EDITED = "edited"
    UPLOADED = "uploaded"
    RESTORED = "restored"


# SPDX ids (and the UK Open Government Licence); `all-rights-reserved` says there is none.
Licence = Literal[
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-NC-ND-4.0",
    "CC0-1.0",
    "OGL-UK-3.0",
    "all-rights-reserved",
]
LICENCES: tuple[str, ...] = get_args(Licence)

MAX_URL_CHARS = 2000
LINK_SCHEMES = ("http", "https")


def link_problem(url: str) -> str | None:
    """Why `url` may not be a library link (None if it may): http(s) only, a host, no credentials.
    Browsers strip tabs and newlines inside a URL (`java\\tscript:`), so any whitespace or
    control character is refused rather than guessed at."""
    if len(url) > MAX_URL_CHARS:
        return f"must be at most {MAX_URL_CHARS} characters"
    if any(c.isspace() or ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in url):
        return "must not contain whitespace or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        return "is not a valid URL"
    del port
    if parts.scheme.lower() not in LINK_SCHEMES:
        return "must be an http or https URL"
    if not parts.hostname:
        return "must name a host"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not contain credentials"
    return None


def may_edit(item: Doc, user_id: str, *, staff: bool, may_post: bool) -> bool:
    """The creator (while they may still post in the community) or its owners and facilitators."""
    return staff or (item.get("created_by") == user_id and may_post)


def status_change_problem(current: str, wanted: str) -> str | None:
    """The transitions of an edit: a draft is published; a published item stays published
    (archiving, and back, is curation's). None if `current` may become `wanted`."""
    if current == wanted:
        return None
    if current == ReviewStatus.DRAFT and wanted == ReviewStatus.PUBLISHED:
        return None
    return f"a {current} item cannot become {wanted} here"
