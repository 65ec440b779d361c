"""The community pages: directory, creating one, About, members, invitations, facilitator tools."""

from fastapi import APIRouter

from weft_web.pages.communities import about, directory, invitation, members
from weft_web.pages.communities.manage import ROUTERS as MANAGE_ROUTERS

router = APIRouter()
for _part in [directory.router, about.router, members.router, invitation.router, *MANAGE_ROUTERS]:
    router.include_router(_part)
