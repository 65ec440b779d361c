"""Committed documents that must match the code."""

from __future__ import annotations

from weft_cli import asyncapi


def test_committed_asyncapi_document_is_current() -> None:
    committed = asyncapi.DOCUMENT.read_text()
    assert committed == asyncapi.generate(), "stale: run `weft asyncapi --write` and commit the result"


def test_asyncapi_documents_every_membership_message() -> None:
    import json

    from weft_shared.contracts.base import MESSAGE_TYPES

    document = json.loads(asyncapi.DOCUMENT.read_text())
    assert document["asyncapi"] == "3.0.0"
    documented = set(document["channels"])
    assert {t for t in MESSAGE_TYPES if t.startswith("org.weft.")} <= documented
