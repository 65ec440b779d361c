"""The shape every stored document has in code: a plain dict (DOCUMENTS.md says what is in each)."""

from __future__ import annotations

from typing import Any

Doc = dict[str, Any]
