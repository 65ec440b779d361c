"""Messages the membership service publishes.

Each carries what a consumer needs to act without calling membership back
(event-carried state transfer): e.g. `member.joined` names the role and the
community's visibility so the events service can update its read model.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from weft_shared.contracts.base import MessagePayload, message

Role = Literal["owner", "facilitator", "member"]
Visibility = Literal["public", "private", "hidden"]
JoinPolicy = Literal["open", "approval", "invite"]
JoinedVia = Literal["open", "approval", "invitation", "creation"]


class CommunitySnapshot(BaseModel):
    id: str
    slug: str
    name: str
    purpose: str
    description: str
    tags: list[str]
    visibility: Visibility
    join_policy: JoinPolicy
    archived: bool
    code_of_conduct_version: int | None


@message("org.weft.community.created.v1", "A community was created; its creator is its first owner.")
class CommunityCreated(MessagePayload):
    community: CommunitySnapshot
    created_by: str


@message("org.weft.community.updated.v1", "A community's details changed; `changed` names the fields.")
class CommunityUpdated(MessagePayload):
    community: CommunitySnapshot
    changed: list[str]
    updated_by: str


@message("org.weft.community.archived.v1", "A community was archived: read-only from now on.")
class CommunityArchived(MessagePayload):
    community: CommunitySnapshot
    archived_by: str


@message("org.weft.member.joined.v1", "Someone became an active member (open join, approval or invitation).")
class MemberJoined(MessagePayload):
    community_id: str
    user_id: str
    role: Role
    via: JoinedVia
    display_name: str | None = None
    community_visibility: Visibility


@message("org.weft.member.left.v1", "A member left a community of their own accord.")
class MemberLeft(MessagePayload):
    community_id: str
    user_id: str
    role: Role


@message("org.weft.member.removed.v1", "An owner or facilitator removed a member; `banned` blocks rejoining.")
class MemberRemoved(MessagePayload):
    community_id: str
    user_id: str
    role: Role
    removed_by: str
    banned: bool


@message("org.weft.member.role_changed.v1", "A member's role changed.")
class MemberRoleChanged(MessagePayload):
    community_id: str
    user_id: str
    old_role: Role
    new_role: Role
    changed_by: str


@message("org.weft.join.requested.v1", "Someone asked to join a community that approves members.")
class JoinRequested(MessagePayload):
    community_id: str
    request_id: str
    user_id: str
    display_name: str | None = None
    message: str | None = None


@message("org.weft.join.approved.v1", "A join request was approved; a member.joined follows.")
class JoinApproved(MessagePayload):
    community_id: str
    request_id: str
    user_id: str
    decided_by: str


@message("org.weft.join.declined.v1", "A join request was declined.")
class JoinDeclined(MessagePayload):
    community_id: str
    request_id: str
    user_id: str
    decided_by: str


@message("org.weft.join.withdrawn.v1", "The person who asked to join withdrew their pending request.")
class JoinWithdrawn(MessagePayload):
    community_id: str
    request_id: str
    user_id: str


@message("org.weft.invitation.created.v1", "An invitation was issued; the token only works for the invitee.")
class InvitationCreated(MessagePayload):
    community_id: str
    community_name: str
    invitation_id: str
    invited_email: str | None
    invited_user_id: str | None
    invited_by: str
    expires_at: datetime
    # The accept link for the invitation email. Safe on the bus because accepting
    # requires the invitee's own identity (matching email or user id).
    accept_path: str


@message("org.weft.invitation.accepted.v1", "An invitation was accepted; a member.joined follows.")
class InvitationAccepted(MessagePayload):
    community_id: str
    invitation_id: str
    user_id: str


@message("org.weft.invitation.withdrawn.v1", "Staff withdrew a pending invitation; its token no longer works.")
class InvitationWithdrawn(MessagePayload):
    community_id: str
    invitation_id: str
    withdrawn_by: str


@message("org.weft.code_of_conduct.published.v1", "A new code-of-conduct version; members must accept it.")
class CodeOfConductPublished(MessagePayload):
    community_id: str
    version: int
    text: str
    published_by: str


@message("org.weft.code_of_conduct.accepted.v1", "A member accepted a code-of-conduct version.")
class CodeOfConductAccepted(MessagePayload):
    community_id: str
    user_id: str
    version: int


@message("org.weft.profile.updated.v1", "A person's profile changed (network-wide, scope `network`).")
class ProfileUpdated(MessagePayload):
    user_id: str
    display_name: str | None
    bio: str
    organisation: str
    expertise: list[str]
    interests: list[str]


@message(
    "org.weft.person.contact_changed.v1",
    "How to reach a person: the email address from their token, announced when membership first records them "
    "and whenever that address changes (never on other requests). It carries personal data (an email address), "
    "so it is network-scoped (subject scope `network`), for the suite's own services: community webhooks never "
    "receive it. `email` is null when the token carries none.",
)
class PersonContactChanged(MessagePayload):
    user_id: str
    email: str | None
    display_name: str | None


class LinkFacts(BaseModel):
    link_id: str
    from_community_id: str
    to_community_id: str
    share_events: bool
    share_resources: bool


@message("org.weft.link.proposed.v1", "An owner proposed a peer link to another community (sent to both).")
class LinkProposed(MessagePayload):
    link: LinkFacts
    proposed_by: str


@message("org.weft.link.accepted.v1", "The other community's owner accepted a peer link (sent to both).")
class LinkAccepted(MessagePayload):
    link: LinkFacts
    accepted_by: str


@message("org.weft.link.removed.v1", "A peer link was withdrawn or ended (sent to both).")
class LinkRemoved(MessagePayload):
    link: LinkFacts
    removed_by: str
