"""The notifications service's HTTP API: thin routes, one module per resource."""

from weft_notifications.api import inbox, preferences, unsubscribe, webhooks

ROUTERS = [inbox.router, preferences.router, unsubscribe.router, *webhooks.ROUTERS]
