"""The archive of a personal-data export: one JSON file per service, a manifest and a
README saying what each file is. Pure: bytes in, bytes out."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime

import orjson

README = """\
Your personal data from {network}
=================================

This archive holds everything Weft keeps about you ({user_id}), as it was when
you asked for it ({requested_at}). Each file is JSON, written by the service that
holds that data:

  membership.json     your profile, your memberships of communities (with join
                      requests and code-of-conduct acceptances), invitations you
                      sent and received
  events.json         events you host or created, your places (RSVPs and
                      waitlists), your check-ins (attendance), your calendar feed
  notifications.json  your inbox, notification preferences, the mail sent to you,
                      digests, and webhooks you own with their deliveries (never
                      their signing secrets)
  resources.json      library items and versions you created, collections,
                      threads and replies you wrote (and their earlier texts),
                      reactions, useful marks, threads you follow, reports you filed
  manifest.json       who asked, when, which services answered, and the SHA-256
                      of each file

Files you uploaded are listed by name, type, size and SHA-256 with the API path
that downloads them (`download_path`, under the Weft API); their contents are not
copied into this archive. A kind of record with more than 10,000 entries lists the
first 10,000 (ask the network's operators for the rest).
{missing}"""


@dataclass(frozen=True, slots=True)
class Part:
    service: str
    data: bytes


def build_archive(
    *, export_id: str, user_id: str, requested_at: datetime, network: str, parts: list[Part], missing: list[str]
) -> bytes:
    manifest = {
        "export_id": export_id,
        "user_id": user_id,
        "requested_at": requested_at,
        "services": [p.service for p in parts],
        "missing_services": missing,
        "files": {
            f"{p.service}.json": {"sha256": hashlib.sha256(p.data).hexdigest(), "size": len(p.data)} for p in parts
        },
    }
    note = (
        f"\nNOT INCLUDED: these services did not answer in time: {', '.join(missing)}. Ask for a new export.\n"
        if missing
        else ""
    )
    readme = README.format(network=network, user_id=user_id, requested_at=requested_at.isoformat(), missing=note)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", readme)
        archive.writestr(
            "manifest.json",
            orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z),
        )
        for part in parts:
            archive.writestr(f"{part.service}.json", part.data)
    return buffer.getvalue()
