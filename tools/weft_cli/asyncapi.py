"""Generate the AsyncAPI 3 document from the services' FastStream declarations.

The document is committed (the gateway serves it at /asyncapi.json); a test
fails when the committed copy is stale. Regenerate with `weft asyncapi --write`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from faststream.specification import AsyncAPI

from weft_shared.messaging.broker import create_broker
from weft_shared.settings import PlatformSettings

DOCUMENT = Path(__file__).resolve().parents[2] / "services" / "gateway" / "weft_gateway" / "asyncapi.json"


def generate() -> str:
    # Fixed settings, not the environment's, so the document is reproducible.
    platform = PlatformSettings(env="dev", nats_url="nats://nats:4222")
    broker = create_broker(platform, client_name="asyncapi")

    from weft_events.messages import document_messages as document_events
    from weft_membership.messages import document_messages as document_membership
    from weft_notifications.messages import document_messages as document_notifications
    from weft_resources.messages import document_messages as document_resources

    document_membership(broker, platform)
    document_events(broker, platform)
    document_notifications(broker, platform)
    document_resources(broker, platform)
    spec = AsyncAPI(
        broker,
        title="Weft messages",
        version="1.0.0",
        description=(
            "Every Weft domain message is a CloudEvents 1.0 structured-mode JSON envelope on the "
            f"JetStream stream `{platform.stream_name}`. Subjects are "
            "`weft.<entity>.<action>.<version>.<community_id|network>`: subscribe to "
            "`weft.*.*.*.<community_id>` for one community, `weft.member.joined.v1.*` for one type."
        ),
        schema_version="3.0.0",
    )
    document = json.loads(spec.to_specification().to_json())
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    fresh = generate()
    if "--check" in args:
        if not DOCUMENT.is_file() or DOCUMENT.read_text() != fresh:
            print(f"{DOCUMENT} is stale: run `weft asyncapi --write`", file=sys.stderr)
            return 1
        print(f"{DOCUMENT} is up to date")
        return 0
    if "--write" in args:
        DOCUMENT.write_text(fresh)
        print(f"wrote {DOCUMENT}")
        return 0
    sys.stdout.write(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
