"""The notifications service's HTTP API: thin routes, one module per resource."""

from weft_notifications.api import inbox, webhooks

ROUTERS = [inbox.router, *webhooks.ROUTERS]
