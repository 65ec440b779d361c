"""Subject scheme: `<prefix>.<entity>.<action>.<version>.<scope>`.

`scope` is the community id, or `network` for messages about no single community
(e.g. a profile update). Every subject has the same number of tokens, so:

- one community, all types:   `weft.*.*.*.<community_id>`
- one type, all communities:  `weft.member.joined.v1.*`
- everything:                 `weft.>`
"""

from __future__ import annotations

from weft_shared.contracts.base import MessagePayload

NETWORK_SCOPE = "network"


def subject_for(prefix: str, payload_type: type[MessagePayload], scope: str | None) -> str:
    return f"{prefix}.{payload_type.subject_tokens()}.{scope or NETWORK_SCOPE}"


def community_wildcard(prefix: str, community_id: str) -> str:
    return f"{prefix}.*.*.*.{community_id}"


def type_wildcard(prefix: str, payload_type: type[MessagePayload]) -> str:
    return f"{prefix}.{payload_type.subject_tokens()}.*"


def all_subjects(prefix: str) -> str:
    return f"{prefix}.>"
