"""Expertise and interests typed as one line, "falls prevention, dementia care", and back."""

from __future__ import annotations

from weft_web.forms import FieldError, clean_line
from weft_web.i18n import _

MAX_TAGS = 30
MAX_TAG_LENGTH = 60


def parse_tags(value: str, *, label: str) -> list[str]:
    """Comma-separated tags, trimmed, without repeats (case-insensitively), in the order typed."""
    line = clean_line(value, label=label, max_length=MAX_TAGS * (MAX_TAG_LENGTH + 2), required=False)
    tags: list[str] = []
    seen: set[str] = set()
    for part in line.split(","):
        tag = part.strip()
        if not tag or tag.lower() in seen:
            continue
        if len(tag) > MAX_TAG_LENGTH:
            message = _("Keep each one to %(n)s characters: “%(tag)s…” is longer.", n=MAX_TAG_LENGTH, tag=tag[:20])
            raise FieldError(message)
        seen.add(tag.lower())
        tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise FieldError(_("List at most %(n)s.", n=MAX_TAGS))
    return tags


def join_tags(tags: list[str]) -> str:
    return ", ".join(tags)
