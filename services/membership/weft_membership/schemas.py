"""Request and response bodies of the membership API.

Request models forbid unknown fields and accept only the declared types, so a
body like `{"name": {"$ne": null}}` is a 422 naming `name`, never a query.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from weft_membership.domain.access import Visibility
from weft_membership.domain.membership import JoinPolicy, MemberStatus
from weft_membership.domain.roles import Role
from weft_shared.service.models import Flag, Strict, WholeNumber, patch_validators
from weft_shared.service.openapi import patch_body_schema
from weft_shared.service.text import MultiLine, OneLine

Name = Annotated[str, OneLine(min_length=3, max_length=120)]
Slug = Annotated[str, OneLine(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$", max_length=60)]
Purpose = Annotated[str, MultiLine(min_length=1, max_length=500)]
Description = Annotated[str, MultiLine(max_length=5000)]
Tag = Annotated[str, OneLine(to_lower=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _-]{0,39}$")]
Tags = Annotated[list[Tag], Field(max_length=20)]
ConductText = Annotated[str, MultiLine(min_length=1, max_length=20000)]
ShortText = Annotated[str, MultiLine(max_length=1000)]
Word = Annotated[str, OneLine(min_length=1, max_length=60)]
UserId = Annotated[str, OneLine(min_length=1, max_length=200)]
CommunityId = Annotated[str, OneLine(min_length=1, max_length=64)]
DisplayName = Annotated[str, OneLine(min_length=1, max_length=120)]
Bio = Annotated[str, MultiLine(max_length=2000)]
Organisation = Annotated[str, OneLine(max_length=200)]
Email = Annotated[
    str,
    OneLine(
        pattern=r"^[^@\s\x00-\x1f\x7f-\x9f]{1,64}@[^@\s\x00-\x1f\x7f-\x9f]{1,255}\.[^@\s\x00-\x1f\x7f-\x9f]{2,63}$"
    ),
]


class CommunityCreate(Strict):
    name: Name
    slug: Slug | None = None
    purpose: Purpose
    description: Description = ""
    tags: Tags = Field(default_factory=list)
    visibility: Visibility = Visibility.PUBLIC
    join_policy: JoinPolicy = JoinPolicy.OPEN
    code_of_conduct: ConductText | None = None


class CommunityUpdate(Strict):
    model_config = ConfigDict(extra="forbid", json_schema_extra=patch_body_schema())
    name: Name | None = None
    purpose: Purpose | None = None
    description: Description | None = None
    tags: Tags | None = None
    visibility: Visibility | None = None
    join_policy: JoinPolicy | None = None

    _something, _not_null = patch_validators()


class CodeOfConductView(BaseModel):
    version: int
    text: str
    published_at: datetime


class InvitationPreview(BaseModel):
    """What an invitation offers, shown to its invitee before they accept it."""

    community_id: str
    community_name: str
    purpose: str
    code_of_conduct: CodeOfConductView | None
    expires_at: datetime


class CommunityView(BaseModel):
    id: str
    slug: str
    name: str
    purpose: str
    tags: list[str]
    visibility: Visibility
    join_policy: JoinPolicy
    archived: bool
    # Only for those who may see details (public, or members):
    description: str | None = None
    code_of_conduct: CodeOfConductView | None = None
    member_count: int | None = None
    created_at: datetime | None = None
    # The caller's own standing:
    my_role: Role | None = None
    my_status: MemberStatus | None = None
    my_code_of_conduct_version: int | None = None


class JoinBody(Strict):
    accept_code_of_conduct_version: WholeNumber | None = None
    message: ShortText | None = None


class JoinResult(BaseModel):
    status: MemberStatus
    request_id: str | None = None
    role: Role | None = None


class MemberView(BaseModel):
    user_id: str
    display_name: str | None
    role: Role
    joined_at: datetime | None


class RoleChange(Strict):
    role: Role


class JoinRequestView(BaseModel):
    request_id: str
    user_id: str
    display_name: str | None
    message: str | None
    requested_at: datetime


class InvitationCreate(Strict):
    email: Email | None = None
    user_id: UserId | None = None
    expires_in_days: Annotated[WholeNumber, Field(ge=1, le=30)] = 14

    @model_validator(mode="after")
    def _exactly_one_invitee(self) -> InvitationCreate:
        if (self.email is None) == (self.user_id is None):
            raise ValueError("give exactly one of email or user_id")
        return self


class InvitationCreated(BaseModel):
    id: str
    token: str
    accept_path: str
    expires_at: datetime


class InvitationAccept(Strict):
    accept_code_of_conduct_version: WholeNumber | None = None


class CodeOfConductPublish(Strict):
    text: ConductText


class CodeOfConductAccept(Strict):
    version: Annotated[WholeNumber, Field(ge=1)]


class ProfileUpdate(Strict):
    display_name: DisplayName | None = None
    bio: Bio = ""
    organisation: Organisation = ""
    expertise: Annotated[list[Word], Field(max_length=30)] = Field(default_factory=list)
    interests: Annotated[list[Word], Field(max_length=30)] = Field(default_factory=list)


class MyCommunity(BaseModel):
    id: str
    name: str
    slug: str
    role: Role


class Profile(BaseModel):
    user_id: str
    email: str | None = None
    display_name: str | None
    bio: str
    organisation: str
    expertise: list[str]
    interests: list[str]


class Me(Profile):
    communities: list[MyCommunity]


class ErasureAccepted(BaseModel):
    """`DELETE /v1/me` answered: membership has erased the caller; the other services follow shortly."""

    status: Literal["erasing"]
    erased_at: datetime
    detail: str


class LinkPropose(Strict):
    to_community_id: CommunityId
    share_events: Flag = True
    share_resources: Flag = True


class LinkView(BaseModel):
    id: str
    # null (with proposed_by, when that community proposed it) where the caller may not know of the community:
    # its owners still see the link, to review and remove it, without learning which community it is
    from_community_id: str | None
    to_community_id: str | None
    status: Literal["proposed", "active"]
    share_events: bool
    share_resources: bool
    proposed_by: str | None
    created_at: datetime
    accepted_at: datetime | None = None


class ExportRequest(BaseModel):
    """A personal-data export request: `pending` until every service has written its
    part, then `ready` (or `incomplete`, naming the services that did not answer in
    time), `expired` once its archive has left the store."""

    id: str
    status: Literal["pending", "ready", "incomplete", "expired"]
    requested_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    services_expected: list[str]
    parts_received: list[str]
    missing: list[str]
    archive_url: str | None  # the download path once there is an archive


class ExportRequests(BaseModel):
    items: list[ExportRequest]
