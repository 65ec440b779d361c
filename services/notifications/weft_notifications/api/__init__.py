"""The notifications service's HTTP API: thin routes, one module per resource."""

from weft_notifications.api import inbox, stream

ROUTERS = [inbox.router]
ROUTERS.append(stream.router)
