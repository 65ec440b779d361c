"""The route table: which service owns a path, and which paths need no token."""

from __future__ import annotations

import pytest

from weft_gateway.routes import ROUTES, Route, RouteTable


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/v1/communities", "membership"),
        ("/v1/communities/c1", "membership"),
        ("/v1/communities/c1/members/u1", "membership"),
        ("/v1/communities/c1/links", "membership"),
        ("/v1/communities/c1/events", "events"),
        ("/v1/communities/c1/events/e1/rsvps", "events"),
        ("/v1/communities/c1/calendar.ics", "events"),
        ("/v1/events", "events"),
        ("/v1/events/e1/check-ins", "events"),
        ("/v1/me/attendance", "events"),
        ("/v1/me/attendance.csv", "events"),
        ("/v1/me/calendar-feed", "events"),
        ("/v1/calendar/s3cr3t.ics", "events"),
        ("/v1/communities/c1/resources", "resources"),
        ("/v1/communities/c1/resources/r1/versions", "resources"),
        ("/v1/communities/c1/collections/k1", "resources"),
        ("/v1/resources/r1", "resources"),
        ("/v1/me/notifications", "notifications"),
        ("/v1/me/notifications/n1/read", "notifications"),
        ("/v1/me/notification-preferences", "notifications"),
        ("/v1/webhooks/w1/deliveries", "notifications"),
        ("/v1/me", "membership"),
        ("/v1/me/communities", "membership"),
        ("/v1/people/p1", "membership"),
        ("/v1/invitations/t1/accept", "membership"),
    ],
)
def test_each_path_goes_to_the_service_that_owns_it(path: str, service: str) -> None:
    route = ROUTES.match(path)
    assert route is not None, path
    assert route.service == service


@pytest.mark.parametrize(
    "path",
    [
        "/v1",
        "/v1/",
        "/v1/unknown",
        "/v1/communitiesx",
        "/v1/eventsfoo",
        "/v1/calendar/token.txt",
        "/v1/calendar/a/b.ics",
        "/healthz",
    ],
)
def test_paths_outside_the_table_match_nothing(path: str) -> None:
    assert ROUTES.match(path) is None


def test_only_links_whose_token_is_the_credential_are_public() -> None:
    public = [r.template for r in ROUTES.routes if not r.auth]
    assert public == ["/v1/calendar/{token}.ics", "/v1/unsubscribe/{token}"]
    for path in ("/v1/calendar/abc.ics", "/v1/unsubscribe/abc"):
        route = ROUTES.match(path)
        assert route is not None and not route.auth
    route = ROUTES.match("/v1/unsubscribe/abc/more")
    assert route is None or route.auth


def test_the_first_matching_template_wins() -> None:
    table = RouteTable([Route("/v1/a/{id}/b", "specific"), Route("/v1/a", "general")])
    assert table.match("/v1/a/1/b/c") == Route("/v1/a/{id}/b", "specific")
    assert table.match("/v1/a/1/c") == Route("/v1/a", "general")


def test_parameters_span_one_segment_only() -> None:
    table = RouteTable([Route("/v1/x/{id}/y", "one", subtree=False)])
    assert table.match("/v1/x/1/y") is not None
    assert table.match("/v1/x/1/2/y") is None
    assert table.match("/v1/x//y") is None


def test_literal_parts_are_not_regex() -> None:
    table = RouteTable([Route("/v1/me/attendance.csv", "events", subtree=False)])
    assert table.match("/v1/me/attendance.csv") is not None
    assert table.match("/v1/me/attendanceXcsv") is None
