"""Messages of a personal-data export (UK GDPR / GDPR right of access).

No personal data travels in these messages: the stream is read by integrators and
webhooks. Each service writes what it holds about the person into the export
object store (`<stream>_EXPORTS`, `<export_id>/<service>.json`) and announces only
where it put it and its digest; membership assembles the archive.
"""

from __future__ import annotations

from weft_shared.contracts.base import MessagePayload, message


@message(
    "org.weft.person.export_requested.v1",
    "A person asked for everything Weft holds about them: every service writes its part to the export store.",
)
class ExportRequested(MessagePayload):
    export_id: str
    user_id: str


@message(
    "org.weft.person.export_part_ready.v1",
    "One service wrote its part of an export (`object_name` in the export store; the data is never in the message).",
)
class ExportPartReady(MessagePayload):
    export_id: str
    service: str
    object_name: str
    sha256: str  # hex digest of the part's bytes
    size: int


@message("org.weft.person.export_ready.v1", "An export's archive is assembled; its requester may download it.")
class ExportReady(MessagePayload):
    export_id: str
    user_id: str


@message(
    "org.weft.person.export_incomplete.v1",
    "Not every service answered an export within its deadline; `missing` names those that did not.",
)
class ExportIncomplete(MessagePayload):
    export_id: str
    user_id: str
    missing: list[str]
