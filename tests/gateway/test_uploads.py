"""File uploads through the gateway: streamed to the service, bounded by `max_upload_bytes`
rather than the (small) `max_body_bytes` every other body gets."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tests.gateway.servers import echo_upstream, start_gateway
from tests.support.api import problem

UPLOAD = "/v1/communities/c1/resources/files"
NEW_VERSION = "/v1/resources/r1/file"


async def _chunked(total: int, piece: int = 4096) -> AsyncIterator[bytes]:
    for _ in range(total // piece):
        yield b"x" * piece


async def test_an_upload_larger_than_the_body_limit_reaches_the_service_whole(alice: dict[str, str]) -> None:
    async with (
        echo_upstream("resources") as resources,
        start_gateway(resources_url=resources.url, max_body_bytes=1024, max_upload_bytes=64 * 1024) as gateway,
    ):
        sized = await gateway.post(UPLOAD, headers=alice, content=b"y" * 40_000)
        assert sized.status_code == 200
        assert sized.json()["body"] == "y" * 40_000
        assert ["content-length", "40000"] in sized.json()["headers"]
        chunked = await gateway.post(NEW_VERSION, headers=alice, content=_chunked(32 * 1024))
        assert chunked.status_code == 200
        assert len(chunked.json()["body"]) == 32 * 1024
        assert ["transfer-encoding", "chunked"] in chunked.json()["headers"]
        # Every other route keeps the small limit.
        problem(await gateway.post("/v1/communities/c1/resources", headers=alice, content=b"y" * 2048), 413)


async def test_an_upload_past_the_upload_limit_is_413(alice: dict[str, str]) -> None:
    async with (
        echo_upstream("resources") as resources,
        start_gateway(resources_url=resources.url, max_body_bytes=1024, max_upload_bytes=16 * 1024) as gateway,
    ):
        problem(await gateway.post(UPLOAD, headers=alice, content=b"y" * (16 * 1024 + 1)), 413)
        assert resources.received == []  # refused from its Content-Length, before forwarding
        # A chunked body announces nothing: it is cut off once it grows past the limit.
        problem(await gateway.post(UPLOAD, headers=alice, content=_chunked(64 * 1024)), 413)
        assert all(len(r["body"]) < 64 * 1024 for r in resources.received)


async def test_downloads_pass_range_and_validators_both_ways(alice: dict[str, str]) -> None:
    async with echo_upstream("resources") as resources, start_gateway(resources_url=resources.url) as gateway:
        response = await gateway.get(NEW_VERSION, headers={**alice, "Range": "bytes=0-9", "If-None-Match": '"abc"'})
        forwarded = dict(response.json()["headers"])
        assert forwarded["range"] == "bytes=0-9"
        assert forwarded["if-none-match"] == '"abc"'
