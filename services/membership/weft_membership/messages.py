"""What membership publishes: the payloads it builds, and their declarations on
the broker for the AsyncAPI document.

Publishing itself goes through the outbox relay; the declarations only describe
subjects and payloads (CloudEvents envelope with the typed `data`).
"""

from __future__ import annotations

from typing import Any

from faststream.nats import NatsBroker

from weft_membership.domain.roles import Role
from weft_shared.contracts import membership as contracts
from weft_shared.contracts import privacy_erasure, privacy_export
from weft_shared.contracts.base import MessagePayload
from weft_shared.contracts.membership import CommunitySnapshot, JoinedVia, MemberJoined
from weft_shared.messaging.declarations import declare_messages, published_in
from weft_shared.settings import PlatformSettings

PUBLISHED = published_in(contracts) + published_in(privacy_erasure)
# Export messages are about a person (scope `network`). Every data service publishes
# `export_part_ready`; membership, which orchestrates exports, declares them all.
EXPORT_MESSAGES = published_in(privacy_export)
# About a person, not a community: published under the `network` scope.
NETWORK_SCOPED: set[type[MessagePayload]] = {
    contracts.ProfileUpdated,
    contracts.PersonContactChanged,
    privacy_erasure.PersonErased,
}


def document_messages(broker: NatsBroker, platform: PlatformSettings) -> None:
    declare_messages(broker, platform, PUBLISHED, network_scoped=NETWORK_SCOPED)
    declare_messages(broker, platform, EXPORT_MESSAGES, network_scoped=EXPORT_MESSAGES)


def community_snapshot(community: dict[str, Any]) -> CommunitySnapshot:
    coc = community.get("code_of_conduct")
    return CommunitySnapshot(
        id=community["_id"],
        slug=community["slug"],
        name=community["name"],
        purpose=community["purpose"],
        description=community.get("description", ""),
        tags=community.get("tags", []),
        visibility=community["visibility"],
        join_policy=community["join_policy"],
        archived=community.get("archived", False),
        code_of_conduct_version=coc["version"] if coc else None,
    )


def member_joined(
    community: dict[str, Any], user_id: str, display_name: str | None, *, via: JoinedVia, role: Role = Role.MEMBER
) -> MemberJoined:
    return MemberJoined(
        community_id=community["_id"],
        user_id=user_id,
        role=role.value,
        via=via,
        display_name=display_name,
        community_visibility=community["visibility"],
    )
