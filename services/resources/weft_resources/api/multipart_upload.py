"""Reading a `multipart/form-data` upload as it streams in, never holding it whole.

The `file` part goes to an unnamed temporary file on disk (the type sniffing needs
to look inside ZIPs, whose directory is at the end), counted and hashed (SHA-256)
on the way; the upload stops with 413 once it passes the size limit. Other parts
(`metadata`) are small and kept in memory, each bounded.

When it refuses an upload part-way, it reads (and discards) what is left of the
body, within a bound, before answering: a client (or the gateway) still sending
would otherwise see its connection cut instead of the answer.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from weft_shared.errors import Problem

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

FILE_PART = "file"
# A metadata part is a small JSON document; this is far more than one needs.
MAX_FIELD_BYTES = 64 * 1024


@dataclass
class ReceivedUpload:
    """The upload's file on disk (closing it deletes it) and its other parts."""

    file: IO[bytes]
    filename: str
    size: int
    sha256: str
    fields: dict[str, bytes]

    def close(self) -> None:
        self.file.close()


def _refusal(status: int, field_name: str, message: str) -> Problem:
    return Problem(message, status=status, errors=[{"field": field_name, "message": message}])


@dataclass
class _Part:
    name: str | None = None
    filename: str | None = None
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[str, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)


class _Receiver:
    """The parser's callbacks: sort each part into the file on disk or a small field."""

    def __init__(self, *, max_file_bytes: int, allowed_fields: frozenset[str], spool_dir: str | None) -> None:
        self.max_file_bytes = max_file_bytes
        self.allowed_fields = allowed_fields
        self.spool_dir = spool_dir
        self.part = _Part()
        self.file: IO[bytes] | None = None
        self.filename = ""
        self.size = 0
        self.digest = hashlib.sha256()
        self.fields: dict[str, bytes] = {}
        self.files_seen = 0
        self.ended = False  # the closing boundary was read: the body is whole

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
            "on_part_end": self.part_end,
            "on_end": self.end,
        }

    def end(self) -> None:
        self.ended = True

    def part_begin(self) -> None:
        self.part = _Part()

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self.part.header_field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self.part.header_value += data[start:end]

    def header_end(self) -> None:
        name = bytes(self.part.header_field).decode("latin-1").strip().lower()
        self.part.headers[name] = bytes(self.part.header_value)
        self.part.header_field.clear()
        self.part.header_value.clear()

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self.part.headers.get("content-disposition"))
        if disposition != b"form-data" or b"name" not in options:
            raise _refusal(400, "body", "every part needs Content-Disposition: form-data with a name")
        name = options[b"name"].decode("utf-8", "replace")
        self.part.name = name
        if name == FILE_PART:
            self.files_seen += 1
            if self.files_seen > 1:
                raise _refusal(422, FILE_PART, "send one file per upload")
            raw = options.get(b"filename", b"")
            self.filename = raw.decode("utf-8", "replace")
            self.file = tempfile.TemporaryFile(dir=self.spool_dir)  # noqa: SIM115 (closed by the caller)
        elif name not in self.allowed_fields:
            raise _refusal(
                422, name, f"unexpected part {name!r}: send only {', '.join(sorted(self.allowed_fields | {FILE_PART}))}"
            )
        elif name in self.fields:
            raise _refusal(422, name, f"send the {name} part once")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        piece = data[start:end]
        if self.part.name == FILE_PART:
            assert self.file is not None
            self.size += len(piece)
            if self.size > self.max_file_bytes:
                raise _refusal(413, FILE_PART, f"the file is larger than the limit of {self.max_file_bytes} bytes")
            self.digest.update(piece)
            self.file.write(piece)
            return
        self.part.data += piece
        if len(self.part.data) > MAX_FIELD_BYTES:
            raise _refusal(
                413, self.part.name or "body", f"the {self.part.name} part is larger than {MAX_FIELD_BYTES} bytes"
            )

    def part_end(self) -> None:
        if self.part.name is not None and self.part.name != FILE_PART:
            self.fields[self.part.name] = bytes(self.part.data)

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


async def receive_upload(
    request: Request, *, max_file_bytes: int, allowed_fields: frozenset[str], spool_dir: str | None = None
) -> ReceivedUpload:
    """The upload's `file` part (on disk) and its other parts, or a 4xx Problem naming the part."""
    content_type, options = parse_options_header(request.headers.get("content-type"))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        await drain(request.stream(), max_file_bytes)
        message = "this route takes multipart/form-data (with a boundary): a `file` part and a `metadata` JSON part"
        raise _refusal(415, "body", message)
    receiver = _Receiver(max_file_bytes=max_file_bytes, allowed_fields=allowed_fields, spool_dir=spool_dir)
    parser = MultipartParser(boundary, receiver.callbacks())
    chunks = request.stream()
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:
        receiver.discard()
        raise _refusal(400, "body", "the upload ended before its last part") from None
    except Problem:
        receiver.discard()
        await drain(chunks, max_file_bytes)
        raise
    except MultipartParseError as exc:
        receiver.discard()
        await drain(chunks, max_file_bytes)
        raise _refusal(400, "body", f"the multipart body cannot be read ({exc})") from None
    except BaseException:
        receiver.discard()
        raise
    if not receiver.ended:  # a body cut short (or sent without its closing boundary) is not a file
        receiver.discard()
        raise _refusal(400, "body", "the multipart body ends before its closing boundary")
    if receiver.file is None:
        raise _refusal(422, FILE_PART, "the upload has no `file` part")
    receiver.file.flush()
    return ReceivedUpload(
        file=receiver.file,
        filename=receiver.filename,
        size=receiver.size,
        sha256=receiver.digest.hexdigest(),
        fields=receiver.fields,
    )


async def drain(chunks: AsyncIterator[bytes], max_file_bytes: int) -> None:
    """Read what is left of the body, up to twice the limit, so the refusal reaches the client."""
    left = 2 * max_file_bytes + MAX_FIELD_BYTES
    try:
        async for chunk in chunks:
            left -= len(chunk)
            if left < 0:
                return
    except (ClientDisconnect, RuntimeError):
        return  # gone, or the stream was already read to its end


def openapi_upload_body(metadata_schema: dict[str, Any] | None, *, description: str) -> dict[str, Any]:
    """The `requestBody` of an upload route, for `openapi_extra` (FastAPI cannot infer it: the
    route reads the stream itself)."""
    properties: dict[str, Any] = {FILE_PART: {"type": "string", "format": "binary", "description": "the file"}}
    encoding: dict[str, Any] = {}
    if metadata_schema is not None:
        properties["metadata"] = metadata_schema
        encoding["metadata"] = {"contentType": "application/json"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": [FILE_PART] + (["metadata"] if metadata_schema is not None else []),
                        "properties": properties,
                        "additionalProperties": False,
                    },
                    "encoding": encoding,
                }
            },
        }
    }
