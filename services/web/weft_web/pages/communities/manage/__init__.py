"""`/communities/{id}/manage/...`: facilitator tools, one module per tool."""

from weft_web.pages.communities.manage import conduct, edit, invitations, links, overview, roles

ROUTERS = [overview.router, invitations.router, roles.router, edit.router, conduct.router, links.router]
