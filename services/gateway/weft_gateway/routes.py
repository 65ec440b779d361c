"""The route table: which service owns which `/v1/...` path, and whether it needs a token.

Paths are matched by templates rather than by their first segment, because one
resource tree is shared between services (`/v1/communities/{id}` is membership's,
`/v1/communities/{id}/events` is the events service's).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from weft_shared.service.path_templates import template_pattern


@dataclass(frozen=True, slots=True)
class Route:
    template: str
    service: str
    auth: bool = True
    # True: the template and everything below it (`/v1/events`, `/v1/events/e1/rsvps`).
    subtree: bool = True
    # True: a long-lived response (server-sent events) that may be quiet for minutes, so no
    # upstream read timeout; it is still forwarded chunk by chunk like any unsized answer.
    streaming: bool = False
    # True: a file upload. Its body is streamed to the service as it arrives (never held whole
    # in the gateway) and bounded by the gateway's `max_upload_bytes` instead of `max_body_bytes`.
    upload: bool = False


class RouteTable:
    """First match wins, so specific templates must come before the general ones they overlap."""

    def __init__(self, routes: Sequence[Route]) -> None:
        self.routes = tuple(routes)
        # One alternation with a named group per route: a single regex call per request,
        # and `lastgroup` names the first alternative that matched (the params are non-capturing).
        pattern = "|".join(
            f"(?P<r{i}>{template_pattern(r.template, subtree=r.subtree)})" for i, r in enumerate(self.routes)
        )
        self._regex = re.compile(f"(?:{pattern})\\Z", re.DOTALL)

    def match(self, path: str) -> Route | None:
        m = self._regex.match(path)
        if m is None or m.lastgroup is None:
            return None
        return self.routes[int(m.lastgroup[1:])]

    def services(self) -> set[str]:
        return {r.service for r in self.routes}


ROUTES = RouteTable(
    [
        # Calendar apps subscribe without headers; the secret token in the path is the credential.
        Route("/v1/calendar/{token}.ics", "events", auth=False, subtree=False),
        # Sub-resources of a community that other services own.
        Route("/v1/communities/{id}/events", "events"),
        Route("/v1/communities/{id}/calendar.ics", "events", subtree=False),
        Route("/v1/communities/{id}/resources/files", "resources", subtree=False, upload=True),
        Route("/v1/communities/{id}/resources", "resources"),
        Route("/v1/communities/{id}/collections", "resources"),
        Route("/v1/communities/{id}/threads", "resources"),
        Route("/v1/communities/{id}/moderation", "resources"),
        Route("/v1/communities/{id}/webhooks", "notifications"),
        Route("/v1/communities", "membership"),
        Route("/v1/events", "events"),
        Route("/v1/resources/{id}/file", "resources", subtree=False, upload=True),
        Route("/v1/resources", "resources"),
        Route("/v1/collections", "resources"),
        Route("/v1/threads", "resources"),
        Route("/v1/replies", "resources"),
        Route("/v1/reports", "resources"),
        Route("/v1/moderation", "resources"),
        Route("/v1/search", "resources"),
        # The caller's own things, owned by whichever service holds them; `/v1/me` itself is membership's.
        Route("/v1/me/attendance", "events"),
        Route("/v1/me/attendance.csv", "events", subtree=False),
        Route("/v1/me/calendar-feed", "events"),
        Route("/v1/me/notifications", "notifications"),
        Route("/v1/me/notification-preferences", "notifications"),
        Route("/v1/me/stream", "notifications", subtree=False, streaming=True),
        Route("/v1/me", "membership"),
        Route("/v1/webhooks", "notifications"),
        # Mail links: the signed token in the path is the credential (RFC 8058 one-click too).
        Route("/v1/unsubscribe/{token}", "notifications", auth=False, subtree=False),
        Route("/v1/people", "membership"),
        Route("/v1/invitations", "membership"),
    ]
)
