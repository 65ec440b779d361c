"""What an uploaded file is, read from its bytes, and whether the library accepts it.

The declared Content-Type and the file name are never trusted to let a file in:
the type is sniffed from the content and checked against an allowlist of
documents, images, slides, spreadsheets, PDFs and plain text. The name only
chooses between the three text types (plain, CSV, Markdown), which are all the
same harmless UTF-8 text. Anything else — executables, scripts, markup a browser
would run (HTML, SVG), archives that are not office documents, empty files — is
refused with the reason.

Works on a seekable binary file (the upload's temporary copy on disk): office
documents are ZIPs whose central directory is at the end, and text must be
valid all the way through. Reading is bounded (entry counts, XML sizes).
"""

from __future__ import annotations

import codecs
import re
import struct
import zipfile
from dataclasses import dataclass
from typing import IO

from weft_resources.domain.safe_xml import UnsafeXml, parse_xml_attributes

# A ZIP with more entries than this is not an office document anyone wrote by hand.
MAX_ZIP_ENTRIES = 10_000
# [Content_Types].xml and the ODF `mimetype` entry are small; read no more of them.
_MAX_MANIFEST_BYTES = 1024 * 1024
_TEXT_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FileType:
    media_type: str  # what is stored and sent back as Content-Type
    label: str  # short name for messages and the API ("pdf", "docx")
    extension: str

    @property
    def is_text(self) -> bool:
        return self.media_type.startswith("text/")

    @property
    def is_zip(self) -> bool:
        return self.label in _ZIP_LABELS


class RefusedFile(ValueError):
    """The file is not one the library accepts; the message says why, for the client."""


PDF = FileType("application/pdf", "pdf", "pdf")
PNG = FileType("image/png", "png", "png")
JPEG = FileType("image/jpeg", "jpeg", "jpg")
GIF = FileType("image/gif", "gif", "gif")
WEBP = FileType("image/webp", "webp", "webp")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", "xlsx")
PPTX = FileType("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx", "pptx")
ODT = FileType("application/vnd.oasis.opendocument.text", "odt", "odt")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods", "ods")
ODP = FileType("application/vnd.oasis.opendocument.presentation", "odp", "odp")
DOC = FileType("application/msword", "doc", "doc")
XLS = FileType("application/vnd.ms-excel", "xls", "xls")
PPT = FileType("application/vnd.ms-powerpoint", "ppt", "ppt")
TEXT = FileType("text/plain; charset=utf-8", "text", "txt")
CSV = FileType("text/csv; charset=utf-8", "csv", "csv")
MARKDOWN = FileType("text/markdown; charset=utf-8", "markdown", "md")

ALLOWED: tuple[FileType, ...] = (
    PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP, DOC, XLS, PPT, TEXT, CSV, MARKDOWN
)  # fmt: skip
_ZIP_LABELS = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp"})

# OOXML: the main part and the content type [Content_Types].xml must give it. Macro-enabled
# variants (docm, xlsm, pptm) have other content types, so they are refused.
_OOXML_MAIN_PARTS = {
    "/word/document.xml": (DOCX, "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "/xl/workbook.xml": (XLSX, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "/ppt/presentation.xml": (
        PPTX,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
}
_ODF_TYPES = {t.media_type: t for t in (ODT, ODS, ODP)}
# OLE2 (compound file) stream names of the three legacy formats. Other OLE2 files (MSI
# installers, Outlook messages) have none of these and are refused.
_OLE_STREAMS = {"WordDocument": DOC, "Workbook": XLS, "Book": XLS, "PowerPoint Document": PPT}

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# Signatures refused by name, so the client hears what the file really is.
_KNOWN_REFUSED = (
    (b"\x7fELF", "an executable (ELF)"),
    (b"MZ", "an executable (Windows PE)"),
    (b"\xcf\xfa\xed\xfe", "an executable (Mach-O)"),
    (b"\xce\xfa\xed\xfe", "an executable (Mach-O)"),
    (b"\xca\xfe\xba\xbe", "an executable (Mach-O or Java class)"),
    (b"#!", "a script (it starts with #!)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
)
# Text may hold TAB, LF and CR; every other C0 control, DEL and the C1 controls are refused.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BOM = codecs.BOM_UTF8


def sniff(file: IO[bytes], *, name: str, size: int) -> FileType:
    """The allowed type of `file` (read from position 0), or RefusedFile saying why not."""
    if size == 0:
        raise RefusedFile("the file is empty")
    file.seek(0)
    head = file.read(64)
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(_ZIP_MAGIC):
        return _sniff_zip(file)
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(file, size)
    for magic, what in _KNOWN_REFUSED:
        if head.startswith(magic):
            raise RefusedFile(f"the file is {what}, which the library does not accept")
    _check_text(file)
    return _text_type(name)


def _text_type(name: str) -> FileType:
    lowered = name.lower()
    if lowered.endswith(".csv"):
        return CSV
    if lowered.endswith((".md", ".markdown")):
        return MARKDOWN
    return TEXT


def _check_text(file: IO[bytes]) -> None:
    """Valid UTF-8 with no control characters but TAB, CR and LF, and not markup."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    first = True
    offset = 0
    while True:
        chunk = file.read(_TEXT_CHUNK)
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise RefusedFile(
                f"the file is not an allowed type (not UTF-8 text: byte {offset + exc.start} cannot be read)"
            ) from None
        if first and text:
            first = False
            if text.startswith("\ufeff"):
                text = text[1:]
            stripped = text.lstrip()
            if stripped.startswith("<"):
                # HTML, SVG and XML can carry script a browser runs; none of them is plain text.
                raise RefusedFile("the file is markup (HTML, SVG or XML), which the library does not accept")
            if stripped.startswith("#!"):
                raise RefusedFile("the file is a script (it starts with #!), which the library does not accept")
        hit = _TEXT_CONTROL.search(text)
        if hit is not None:
            raise RefusedFile(
                f"the file is not an allowed type (binary data: control character U+{ord(hit.group()):04X})"
            )
        if not chunk:
            return
        offset += len(chunk)


def _open_zip(file: IO[bytes]) -> zipfile.ZipFile:
    file.seek(0)
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise RefusedFile(f"the file is a damaged ZIP archive ({exc})") from None
    if len(archive.infolist()) > MAX_ZIP_ENTRIES:
        raise RefusedFile(f"the archive has more than {MAX_ZIP_ENTRIES} entries")
    return archive


def read_zip_entry(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """One entry's bytes, decompressing no more than `limit` (a zip bomb stops here cheaply)."""
    try:
        with archive.open(name) as entry:
            data = entry.read(limit + 1)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise RefusedFile(f"the archive entry {name} cannot be read ({exc})") from None
    if len(data) > limit:
        raise RefusedFile(f"the archive entry {name} expands to more than {limit} bytes")
    return data


def _sniff_zip(file: IO[bytes]) -> FileType:
    with _open_zip(file) as archive:
        entries = archive.infolist()
        names = {e.filename for e in entries}
        if entries and entries[0].filename == "mimetype":
            declared = read_zip_entry(archive, "mimetype", 200).decode("ascii", "replace").strip()
            odf = _ODF_TYPES.get(declared)
            if odf is not None and "content.xml" in names:
                return odf
            raise RefusedFile(f"the archive declares the type {declared[:80]!r}, which the library does not accept")
        if "[Content_Types].xml" in names:
            return _sniff_ooxml(archive, names)
    raise RefusedFile("the file is a ZIP archive that is not an office document")


def _sniff_ooxml(archive: zipfile.ZipFile, names: set[str]) -> FileType:
    manifest = read_zip_entry(archive, "[Content_Types].xml", _MAX_MANIFEST_BYTES)
    try:
        overrides = {
            attrs.get("PartName", ""): attrs.get("ContentType", "")
            for tag, attrs in parse_xml_attributes(manifest)
            if tag.rsplit("}", 1)[-1] == "Override"
        }
    except UnsafeXml as exc:
        raise RefusedFile(f"[Content_Types].xml is refused: {exc}") from None
    for part, (file_type, content_type) in _OOXML_MAIN_PARTS.items():
        if part[1:] in names and overrides.get(part) == content_type:
            return file_type
    raise RefusedFile("the archive is not a Word, Excel or PowerPoint document (macro-enabled ones are refused)")


def _sniff_ole(file: IO[bytes], size: int) -> FileType:
    for stream in _ole_stream_names(file, size):
        found = _OLE_STREAMS.get(stream)
        if found is not None:
            return found
    raise RefusedFile("the file is an OLE2 compound file that is not a Word, Excel or PowerPoint document")


_FREE_OR_END = 0xFFFFFFFA  # sector numbers from here up are markers, not sectors


def _ole_stream_names(file: IO[bytes], size: int) -> list[str]:
    """The names in an OLE2 compound file's directory ([MS-CFB] §2.2, §2.6), read along the
    FAT chain that the header's first 109 FAT sector numbers cover."""
    file.seek(0)
    header = file.read(512)
    if len(header) < 512:
        raise RefusedFile("the file is a damaged OLE2 compound file")
    sector_shift = struct.unpack_from("<H", header, 30)[0]
    if sector_shift not in (9, 12):
        raise RefusedFile("the file is a damaged OLE2 compound file (sector size)")
    sector_size = 1 << sector_shift
    first_directory = struct.unpack_from("<I", header, 48)[0]
    fat_sectors = [s for s in struct.unpack_from("<109I", header, 76) if s < _FREE_OR_END]

    def read_sector(number: int) -> bytes:
        position = (number + 1) * sector_size
        if position + sector_size > size:
            raise RefusedFile("the file is a damaged OLE2 compound file (a sector lies past its end)")
        file.seek(position)
        return file.read(sector_size)

    fat: list[int] = []
    for sector in fat_sectors:
        block = read_sector(sector)
        fat.extend(struct.unpack(f"<{sector_size // 4}I", block))
    names: list[str] = []
    sector = first_directory
    seen: set[int] = set()
    while sector < _FREE_OR_END and sector not in seen and len(seen) < 4096:
        seen.add(sector)
        block = read_sector(sector)
        for at in range(0, sector_size, 128):
            entry = block[at : at + 128]
            length = struct.unpack_from("<H", entry, 64)[0]
            if 2 <= length <= 64:
                names.append(entry[: length - 2].decode("utf-16-le", "replace"))
        sector = fat[sector] if sector < len(fat) else _FREE_OR_END
    return names
