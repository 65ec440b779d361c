"""The committed AsyncAPI document (generated from the FastStream code, checked in CI)."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

import orjson

from weft_shared.errors import Problem


class AsyncApiDocument:
    def __init__(self, path: Path | None = None) -> None:
        # By default the copy shipped inside this package, so it works from a wheel too.
        self._source: Traversable = path if path is not None else resources.files("weft_gateway") / "asyncapi.json"
        self._cached: bytes | None = None

    def load(self) -> bytes:
        """The document's bytes; 503 until the file exists and parses."""
        if self._cached is None:
            try:
                data = self._source.read_bytes()
            except FileNotFoundError:
                raise Problem(
                    f"the AsyncAPI document has not been generated ({self._source} is missing)", status=503
                ) from None
            try:
                orjson.loads(data)
            except orjson.JSONDecodeError:
                raise Problem(f"the AsyncAPI document at {self._source} is not valid JSON", status=503) from None
            # Committed with the code, so it cannot change under a running process.
            self._cached = data
        return self._cached
