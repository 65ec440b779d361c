"""The webhook rules without I/O: patterns, the retry schedule, the address policy, signatures
(checked against the `standardwebhooks` library)."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from weft_notifications.domain import webhooks as rules
from weft_notifications.domain.address_policy import AddressPolicy, RefusedUrl
from weft_notifications.domain.webhook_signing import new_secret, signature_header
from weft_shared.auth import NetworkAdmins, Principal

KNOWN = [
    "org.weft.member.joined.v1",
    "org.weft.member.left.v1",
    "org.weft.event.scheduled.v1",
    "org.weft.profile.updated.v1",
]


def test_patterns() -> None:
    assert rules.pattern_matches("org.weft.member.*", "org.weft.member.joined.v1")
    assert rules.pattern_matches("*", "org.weft.event.scheduled.v1")
    assert rules.pattern_matches("org.weft.*.v1", "org.weft.member.left.v1")
    assert not rules.pattern_matches("org.weft.member.*", "org.weft.membership.joined.v1")
    assert not rules.pattern_matches("org.weft.member.joined", "org.weft.member.joined.v1")
    assert not rules.pattern_matches("org.weft.member.joined.v1.", "org.weft.member.joined.v1")
    network = rules.receivable_types(KNOWN, network=True)
    assert "org.weft.profile.updated.v1" not in network
    assert rules.patterns_matching_nothing(["org.weft.profile.*", "org.weft.member.*"], network) == [
        "org.weft.profile.*"
    ]
    assert rules.patterns_matching_nothing(["org.weft.profile.*"], rules.receivable_types(KNOWN, network=False)) == []
    assert not rules.receives(["*"], "org.weft.profile.updated.v1", network=True)
    assert rules.receives(["*"], "org.weft.profile.updated.v1", network=False)


def test_the_retry_schedule_spans_about_a_day_with_jitter() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    total = sum(rules.RETRY_DELAYS, timedelta())
    assert timedelta(hours=27) < total < timedelta(hours=28) and rules.MAX_ATTEMPTS == 8
    rng = random.Random(7)
    for made, delay in enumerate(rules.RETRY_DELAYS, start=1):
        for _ in range(50):
            retry = rules.next_attempt_at(made, at, rng=rng)
            assert retry is not None and delay * 0.8 <= retry - at <= delay * 1.2
    assert rules.next_attempt_at(len(rules.RETRY_DELAYS) + 1, at) is None
    assert rules.next_attempt_at(1, at, time_scale=0.01, rng=rng) - at <= timedelta(seconds=0.06)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "private"),
        ("224.0.0.251", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("100.100.100.200", "metadata"),  # Alibaba Cloud's, in the shared (CGNAT) space
        ("100.64.0.1", "not a public"),
        ("168.63.129.16", "metadata"),
        ("240.0.0.1", "private"),  # reserved; Python counts it private
    ],
)
def test_addresses_that_are_refused(address: str, why: str) -> None:
    reason = AddressPolicy.of(require_https=False, allowed=[]).refusal(ipaddress.ip_address(address))
    assert reason is not None and why in reason


def test_public_and_allowlisted_addresses() -> None:
    policy = AddressPolicy.of(require_https=False, allowed=["127.0.0.1/32", "10.8.0.0/16"])
    for address in ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "127.0.0.1", "10.8.3.4"):
        assert policy.refusal(ipaddress.ip_address(address)) is None, address
    assert policy.refusal(ipaddress.ip_address("10.9.0.1")) is not None
    # Every address a name resolves to must pass.
    assert policy.first_refusal([ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.9.0.1")])
    assert policy.first_refusal([]) == "the host resolves to no address"


def test_urls() -> None:
    dev = AddressPolicy.of(require_https=False, allowed=[])
    production = AddressPolicy.of(require_https=True, allowed=[])
    endpoint = dev.endpoint("http://hooks.example.org:8080/in?x=1")
    assert (endpoint.host, endpoint.port, endpoint.target, endpoint.host_header) == (
        "hooks.example.org",
        8080,
        "/in?x=1",
        "hooks.example.org:8080",
    )
    assert production.endpoint("https://hooks.example.org").host_header == "hooks.example.org"
    for url in ("ftp://example.org/", "file:///etc/passwd", "https://", "http://example.org/#x", "http://[::1/"):
        with pytest.raises(RefusedUrl):
            dev.endpoint(url)
    with pytest.raises(RefusedUrl, match="https"):
        production.endpoint("http://hooks.example.org/")
    with pytest.raises(RefusedUrl, match="2048"):
        dev.endpoint("https://example.org/" + "a" * 2030)


def test_signatures_verify_with_the_standard_webhooks_library() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"id":"m1","type":"org.weft.member.joined.v1"}'
    timestamp = int(datetime.now(UTC).timestamp())
    signature = signature_header([new, old], "m1", timestamp, body)
    headers = {"webhook-id": "m1", "webhook-timestamp": str(timestamp), "webhook-signature": signature}
    for secret in (new, old):
        assert Webhook(secret).verify(body, headers)["id"] == "m1"
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)


def test_network_admins_by_role_claim_or_subject() -> None:
    def principal(sub: str, **claims: object) -> Principal:
        return Principal(sub=sub, email=None, name=None, expires_at=0.0, claims={"sub": sub, **claims})

    admins = NetworkAdmins.of("roles", "weft-admin", ["root"])
    assert admins.includes(principal("ana", roles=["member", "weft-admin"]))
    assert admins.includes(principal("ana", roles="member weft-admin"))  # a space-separated string
    assert admins.includes(principal("root"))
    assert not admins.includes(principal("ana", roles=["weft-admins"]))
    assert not admins.includes(principal("ana", roles={"weft-admin": True}))
    assert not admins.includes(principal("ana"))
    nested = NetworkAdmins.of("realm_access.roles", "weft-admin", [])  # Keycloak's shape
    assert nested.includes(principal("ana", realm_access={"roles": ["weft-admin"]}))
    assert not nested.includes(principal("ana", realm_access=["weft-admin"]))
