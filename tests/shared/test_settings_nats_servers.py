"""`WEFT_NATS_URL` takes one server or a cluster's servers separated by commas."""

from __future__ import annotations

from weft_shared.settings import PlatformSettings


def test_one_server() -> None:
    assert PlatformSettings(env="dev", nats_url="nats://a:4222").nats_servers == ["nats://a:4222"]


def test_a_cluster_separated_by_commas_with_spaces_and_a_trailing_comma() -> None:
    settings = PlatformSettings(env="dev", nats_url="nats://a:4222, nats://b:4222,nats://c:4222,")
    assert settings.nats_servers == ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
