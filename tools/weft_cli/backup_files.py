"""The files of a backup: BSON documents one after another (mongodump's `.bson`
layout), and a JSON manifest (MongoDB Extended JSON, so types survive) that
names every file with its document count and sha256."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from bson import json_util
from bson.json_util import JSONMode, JSONOptions

FORMAT = "weft-backup/1"
MANIFEST = "manifest.json"
_JSON = JSONOptions(json_mode=JSONMode.RELAXED, tz_aware=True)


class BackupCorrupt(RuntimeError):
    """A file of the backup is missing or differs from what its manifest says."""


class BsonWriter:
    """Appends BSON documents to a file, counting them and hashing what it writes."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._sha = hashlib.sha256()
        self.count = 0

    def write(self, raw: bytes) -> None:
        self._out.write(raw)
        self._sha.update(raw)
        self.count += 1

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


def read_bson(path: Path) -> Iterator[bytes]:
    """Each document's raw bytes, in file order."""
    with path.open("rb") as src:
        while header := src.read(4):
            if len(header) < 4:
                raise BackupCorrupt(f"{path}: truncated document length")
            (size,) = struct.unpack("<i", header)
            body = src.read(size - 4)
            if size < 5 or len(body) != size - 4:
                raise BackupCorrupt(f"{path}: truncated document")
            yield header + body


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        for block in iter(lambda: src.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(folder: Path, name: str, expected_sha256: str) -> None:
    """Refuse a file whose content is not what the backup wrote."""
    path = folder / name
    if not path.is_file():
        raise BackupCorrupt(f"{path} is missing; this backup cannot be restored")
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise BackupCorrupt(
            f"{path} is corrupted: its sha256 is {actual}, the manifest says {expected_sha256}; "
            "this backup cannot be restored (take another, or use an older one)"
        )


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json_util.dumps(manifest, json_options=_JSON, indent=2) + "\n")


def read_manifest(folder: Path, *, kind: str) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupCorrupt(f"no {kind} backup here: {path} does not exist")
    try:
        manifest: dict[str, Any] = json_util.loads(path.read_text(), json_options=_JSON)
    except ValueError as exc:
        raise BackupCorrupt(f"{path} is not a readable manifest: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("kind") != kind:
        raise BackupCorrupt(f"{path} is not a {kind} backup in the {FORMAT} format")
    return manifest


def file_name_for(collection: str) -> str:
    """A collection's file name; collection names may hold characters a file system dislikes."""
    safe = all(c.isalnum() or c in "._-" for c in collection) and not collection.startswith(".")
    return f"{collection}.bson" if safe else f"{hashlib.sha256(collection.encode()).hexdigest()[:16]}.bson"
