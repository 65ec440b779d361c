"""The pure rules behind files: sniffing, text extraction (and its bounds), byte ranges,
validators and Content-Disposition. No servers: these are functions of bytes and headers."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.resources import sample_files as samples
from weft_resources.domain import file_types
from weft_resources.domain.file_delivery import (
    ByteRange,
    Unsatisfiable,
    clean_filename,
    content_disposition,
    not_modified,
    range_applies,
    requested_range,
)
from weft_resources.domain.file_types import RefusedFile, sniff
from weft_resources.domain.text_extraction import MAX_TEXT_CHARS, extract_text


def _sniff(data: bytes, name: str = "upload.bin") -> file_types.FileType:
    return sniff(io.BytesIO(data), name=name, size=len(data))


def test_the_name_only_chooses_between_text_types() -> None:
    assert _sniff(b"a,b\n", "x.csv") is file_types.CSV
    assert _sniff(b"# x\n", "x.MD") is file_types.MARKDOWN
    assert _sniff(b"plain\n", "x.pdf") is file_types.TEXT  # a .pdf name does not make text a PDF
    assert _sniff(samples.pdf(), "x.txt") is file_types.PDF  # nor a .txt name a PDF text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (samples.elf(), "ELF"),
        (samples.pe(), "Windows PE"),
        (samples.shell_script(), "#!"),
        (b"  \n#!/usr/bin/env python\n", "#!"),
        (samples.html(), "markup"),
        ("\ufeff<svg/>".encode(), "markup"),
        (samples.plain_zip(), "not an office document"),
        (b"PK\x03\x04 broken", "damaged ZIP"),
        (b"\x1f\x8b\x08\x00", "gzip"),
        (b"tab\tok but bell \x07", r"U\+0007"),
        (b"C1 control \xc2\x85", r"U\+0085"),
        (b"", "empty"),
    ],
)
def test_refusals_say_what_the_file_is(data: bytes, reason: str) -> None:
    with pytest.raises(RefusedFile, match=reason):
        _sniff(data)


def test_a_long_text_is_checked_to_its_end() -> None:
    data = b"fine text\n" * 20_000 + b"\x00"
    with pytest.raises(RefusedFile, match="U\\+0000"):
        _sniff(data)
    # A multi-byte character split across read chunks is still valid UTF-8.
    split = b"a" * (64 * 1024 - 1) + "é".encode() + b"\n"
    assert _sniff(split) is file_types.TEXT


def test_dtds_are_refused_before_any_entity_is_expanded() -> None:
    with pytest.raises(RefusedFile, match="DTD"):
        extract_text(io.BytesIO(samples.billion_laughs_docx()), file_types.DOCX)
    external = samples.docx_with_xml(
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">&x;</w:document>'
    )
    with pytest.raises(RefusedFile, match="DTD"):
        extract_text(io.BytesIO(external), file_types.DOCX)


def test_a_zip_bomb_is_refused_after_a_bounded_read() -> None:
    bomb = samples.zip_bomb_docx(200)
    assert len(bomb) < 1024 * 1024  # 200 MB of XML in well under 1 MB
    data = io.BytesIO(bomb)
    assert sniff(data, name="a.docx", size=len(bomb)) is file_types.DOCX
    with pytest.raises(RefusedFile, match="expands to more than"):
        extract_text(data, file_types.DOCX)


def test_extracted_text_is_capped() -> None:
    long_paragraph = "word " * (MAX_TEXT_CHARS // 4)
    text = extract_text(io.BytesIO(samples.docx((long_paragraph,))), file_types.DOCX)
    assert len(text) <= MAX_TEXT_CHARS


def test_office_manifests_decide_between_word_excel_and_powerpoint() -> None:
    assert _sniff(samples.docx()) is file_types.DOCX
    assert _sniff(samples.xlsx()) is file_types.XLSX
    assert _sniff(samples.pptx()) is file_types.PPTX
    # An ODF archive whose first entry is not `mimetype` is just a ZIP.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("content.xml", "<x/>")
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    with pytest.raises(RefusedFile):
        _sniff(out.getvalue())


def test_byte_ranges() -> None:
    assert requested_range(None, 100) is None
    assert requested_range("bytes=0-9", 100) == ByteRange(0, 9)
    assert requested_range("bytes=90-", 100) == ByteRange(90, 99)
    assert requested_range("bytes=-10", 100) == ByteRange(90, 99)
    assert requested_range("bytes=-500", 100) == ByteRange(0, 99)
    assert requested_range("bytes=50-5000", 100) == ByteRange(50, 99)
    assert requested_range("bytes=0-1,3-4", 100) is None  # several: the whole file
    assert requested_range("bytes=9-2", 100) is None  # invalid: ignored
    assert requested_range("items=0-1", 100) is None
    for unsatisfiable in ("bytes=100-", "bytes=100-200", "bytes=-0"):
        with pytest.raises(Unsatisfiable):
            requested_range(unsatisfiable, 100)
    assert ByteRange(5, 9).content_range(100) == "bytes 5-9/100"


def test_validators() -> None:
    etag = '"abc"'
    assert not_modified('"abc"', etag) and not_modified('W/"abc"', etag) and not_modified("*", etag)
    assert not_modified('"x", "abc"', etag)
    assert not not_modified('"x"', etag) and not not_modified(None, etag)
    assert range_applies(None, etag) and range_applies('"abc"', etag)
    assert not range_applies('"x"', etag) and not range_applies("Tue, 01 Dec 2026 10:00:00 GMT", etag)


def test_filenames_cannot_escape_or_break_the_header() -> None:
    assert clean_filename("../../etc/passwd", fallback_extension="txt") == "passwd"
    assert clean_filename("C:\\Users\\ana\\report.pdf", fallback_extension="pdf") == "report.pdf"
    assert clean_filename("a\r\nb\x00.txt", fallback_extension="txt") == "ab.txt"
    assert clean_filename("...", fallback_extension="pdf") == "file.pdf"
    assert clean_filename("", fallback_extension="png") == "file.png"
    assert len(clean_filename("x" * 1000 + ".pdf", fallback_extension="pdf")) == 255

    header = content_disposition('Notes "final"; v2 — Zoë.pdf')
    assert header == (
        'attachment; filename="Notes _final__ v2  Zoe.pdf"; '
        "filename*=UTF-8''Notes%20%22final%22%3B%20v2%20%E2%80%94%20Zo%C3%AB.pdf"
    )
    assert content_disposition("報告.pdf").startswith("attachment; filename=\"download.pdf\"; filename*=UTF-8''%E5")
    assert "\r" not in content_disposition("a\r\nSet-Cookie: x=1.pdf")
