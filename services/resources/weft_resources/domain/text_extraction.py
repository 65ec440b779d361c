"""The text of an uploaded file, for search: PDFs through pypdf, office documents by
reading their XML parts (DTDs refused, see safe_xml), text files as they are.

Bounded twice: at most MAX_TEXT_CHARS of text is kept, and at most
MAX_DECOMPRESSED_BYTES of XML is decompressed, so a zip bomb is refused after a
bounded amount of work rather than filling memory or the disk.
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO

from weft_resources.domain import file_types
from weft_resources.domain.file_types import FileType, RefusedFile
from weft_resources.domain.safe_xml import TextLimitReached, UnsafeXml, xml_text

log = logging.getLogger("weft.resources.text_extraction")

MAX_TEXT_CHARS = 1_000_000
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main}"
_S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_OFFICE_BODY = "urn:oasis:names:tc:opendocument:xmlns:office:1.0}body"
_ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_SLIDE = re.compile(r"ppt/slides/slide(\d+)\.xml\Z")


def extract_text(file: IO[bytes], file_type: FileType) -> str:
    """The file's text (at most MAX_TEXT_CHARS), "" for images; RefusedFile for an office
    document whose XML is unsafe or expands past the limit."""
    file.seek(0)
    if file_type.is_text:
        return file.read(MAX_TEXT_CHARS * 4).decode("utf-8", "ignore").lstrip("\ufeff")[:MAX_TEXT_CHARS]
    if file_type == file_types.PDF:
        return _pdf_text(file)
    if file_type.is_zip:
        return _office_text(file, file_type)
    return ""  # images and legacy binary office formats: nothing we read


def _pdf_text(file: IO[bytes]) -> str:
    from pypdf import PdfReader  # imported here: only uploads of PDFs pay for it

    parts: list[str] = []
    used = 0
    try:
        for page in PdfReader(file).pages:
            text = page.extract_text() or ""
            parts.append(text[: MAX_TEXT_CHARS - used])
            used += len(parts[-1])
            if used >= MAX_TEXT_CHARS:
                break
    except Exception as exc:  # a PDF pypdf cannot read is still a PDF: stored, but not searchable
        log.info("no text from a PDF: %s", exc)
    return "\n".join(parts)


def _office_text(file: IO[bytes], file_type: FileType) -> str:
    with zipfile.ZipFile(file) as archive:
        names = archive.namelist()
        if file_type == file_types.DOCX:
            parts = ["word/document.xml"]
            text_tags, break_tags = _tag(_W + "t"), _tag(_W + "p")
        elif file_type == file_types.PPTX:
            slides = [(int(m.group(1)), n) for n in names if (m := _SLIDE.match(n))]
            parts = [n for _, n in sorted(slides)]
            text_tags, break_tags = _tag(_A + "t"), _tag(_A + "p")
        elif file_type == file_types.XLSX:
            parts = ["xl/sharedStrings.xml"] if "xl/sharedStrings.xml" in names else []
            text_tags, break_tags = _tag(_S + "t"), _tag(_S + "si")
        else:  # ODF: every text inside the body; a line per paragraph and heading
            parts = ["content.xml"]
            text_tags = _tag(_OFFICE_BODY)
            break_tags = _tag(_ODF_TEXT + "p", _ODF_TEXT + "h")
        out: list[str] = []
        budget = [MAX_TEXT_CHARS]
        spent = [0]
        try:
            for part in parts:
                xml_text(
                    _entry_chunks(archive, part, spent),
                    text_tags=text_tags,
                    break_tags=break_tags,
                    out=out,
                    budget=budget,
                )
                out.append("\n")
        except TextLimitReached:
            pass
        except UnsafeXml as exc:
            raise RefusedFile(f"the document's {part} is refused: {exc}") from None
        except KeyError:
            raise RefusedFile(f"the document has no {part}") from None
    return "".join(out).strip()[:MAX_TEXT_CHARS]


def _tag(*names: str) -> Callable[[str], bool]:
    wanted = frozenset(names)
    return wanted.__contains__


def _entry_chunks(archive: zipfile.ZipFile, name: str, spent: list[int]) -> Iterator[bytes]:
    """One entry, decompressed a chunk at a time, all entries together bounded by MAX_DECOMPRESSED_BYTES."""
    try:
        with archive.open(name) as entry:
            while chunk := entry.read(_CHUNK):
                spent[0] += len(chunk)
                if spent[0] > MAX_DECOMPRESSED_BYTES:
                    raise RefusedFile(
                        f"the document expands to more than {MAX_DECOMPRESSED_BYTES // (1024 * 1024)} MB of XML"
                    )
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise RefusedFile(f"the archive entry {name} cannot be read ({exc})") from None
