"""The notifications service's HTTP API: thin routes, one module per resource."""

from weft_notifications.api import inbox, preferences, stream, unsubscribe, webhooks

ROUTERS = [inbox.router, preferences.router, unsubscribe.router, stream.router, *webhooks.ROUTERS]
