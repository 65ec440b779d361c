"""One signed POST to a webhook endpoint, SSRF-safe: to the address already checked
(the URL's host name only in the Host header and TLS SNI, so the certificate is
still checked against it), no redirects followed, the body read up to a limit, the
whole exchange bounded by a timeout. Connections are not reused: a pooled one is
keyed by address, and two hosts on one address must not share a TLS session."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

from weft_notifications.usecases.webhook_addresses import CheckedEndpoint


@dataclass(frozen=True, slots=True)
class Attempt:
    status: int | None  # None: no HTTP answer (refused address, timeout, connection error)
    latency_ms: int
    error: str | None
    body: str

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


def new_http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        follow_redirects=False,
        trust_env=False,  # never through a proxy from the environment: it would reach what we refused
        limits=httpx.Limits(max_keepalive_connections=0, max_connections=None),
        timeout=httpx.Timeout(timeout),  # per step; `post` also bounds the whole exchange
    )


async def post(
    client: httpx.AsyncClient,
    checked: CheckedEndpoint,
    headers: dict[str, str],
    body: bytes,
    *,
    timeout: float,
    body_limit: int,
) -> Attempt:
    endpoint = checked.endpoint
    host = f"[{checked.address}]" if checked.address.version == 6 else str(checked.address)
    url = f"{endpoint.scheme}://{host}:{endpoint.port}{endpoint.target}"
    extensions = {"sni_hostname": endpoint.host} if endpoint.scheme == "https" else {}
    request = client.build_request(
        "POST", url, content=body, headers={**headers, "host": endpoint.host_header}, extensions=extensions
    )
    started = time.monotonic()
    status: int | None = None
    kept = b""
    try:
        async with asyncio.timeout(timeout):
            response = await client.send(request, stream=True)
            try:
                status = response.status_code
                async for chunk in response.aiter_raw():
                    kept += chunk[: max(0, body_limit - len(kept))]
                    if len(kept) >= body_limit:
                        break
            finally:
                await response.aclose()
    except TimeoutError:
        return Attempt(status, _since(started), f"no complete answer within {timeout:g} s", "")
    except httpx.HTTPError as exc:
        return Attempt(status, _since(started), f"{type(exc).__name__}: {exc}"[:500], "")
    text = kept.decode("utf-8", errors="replace")
    error = None if status is not None and 200 <= status < 300 else f"answered {status}"
    return Attempt(status, _since(started), error, text)


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
