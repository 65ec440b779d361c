"""The membership HTTP API: thin routes, one module per resource."""

from __future__ import annotations

from weft_membership.api import communities, exports, invitations, links, members, people

# In the order the OpenAPI document lists them.
ROUTERS = [communities.router, members.router, invitations.router, links.router, people.router, exports.router]
