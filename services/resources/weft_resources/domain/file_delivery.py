"""How a stored file is handed back: the byte range asked for (RFC 9110 §14), whether
the client's copy is current (ETag, If-None-Match, If-Range) and a Content-Disposition
whose filename cannot break the header or escape a folder (RFC 6266, RFC 8187)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

MAX_FILENAME_CHARS = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Kept in the quoted ASCII fallback: what every browser and OS takes in a file name.
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._()\[\]+,=@ -]")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(ValueError):
    """The Range asks only for bytes past the end: 416 with `Content-Range: bytes */size`."""


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*\Z", re.IGNORECASE)


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a Range header asks for, or None for the whole file: no header,
    a syntax we do not read, or several ranges (answered with the whole file, which RFC 9110
    allows). Raises Unsatisfiable when no byte of it exists."""
    if header is None or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # the last n bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored, as RFC 9110 §14.1.1 says
    if start >= size:
        raise Unsatisfiable(header)
    end = int(last) if last else size - 1
    return ByteRange(start, min(end, size - 1))


def entity_tag(sha256: str) -> str:
    """A strong validator: the same bytes always have the same tag."""
    return f'"{sha256}"'


def _tags(header: str) -> list[str]:
    return [t.strip().removeprefix("W/") for t in header.split(",") if t.strip()]


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match names the current tag (weak comparison, RFC 9110 §13.1.2), or is `*`."""
    if if_none_match is None:
        return False
    tags = _tags(if_none_match)
    return "*" in tags or etag in tags


def range_applies(if_range: str | None, etag: str) -> bool:
    """If-Range: the range is served only if the client's copy is this one (strong comparison);
    a date there is never a match, since we keep no modification times for a version."""
    return if_range is None or if_range.strip() == etag


def clean_filename(name: str, *, fallback_extension: str) -> str:
    """The name to store: no folders (`../`, `C:\\`), no control characters, at most 255
    characters; `file.<extension>` when nothing is left."""
    base = re.split(r"[/\\]", name)[-1]
    base = _CONTROL.sub("", unicodedata.normalize("NFC", base)).strip().lstrip(".")
    base = base[:MAX_FILENAME_CHARS].strip()
    return base or f"file.{fallback_extension}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback (quotes, backslashes and anything unusual replaced)
    and the exact name in `filename*` (UTF-8, percent-encoded), for clients that read it."""
    cleaned = clean_filename(filename, fallback_extension="bin")
    stem, dot, extension = cleaned.rpartition(".")
    if not dot:
        stem, extension = cleaned, ""
    ascii_extension = _ascii(extension)
    ascii_name = (_ascii(stem) or "download") + (f".{ascii_extension}" if ascii_extension else "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


def _ascii(text: str) -> str:
    """Accents dropped (é → e), anything else outside a plain set replaced by `_`."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _UNSAFE_ASCII.sub("_", plain).strip(" .")
