"""One signed POST to a webhook endpoint, SSRF-safe: to the address already checked
(the URL's host name only in the Host header and as the TLS server name, so the
certificate is still checked against it), no redirects followed, the body read up
to a limit, the whole exchange bounded by a timeout. Connections are not reused: a
pooled one is keyed by address, and two hosts on one address must not share one.

(aiohttp, not httpx: httpcore 1.0.9 tries `import sniffio` on every request, and with
sniffio not installed each failed import walks `sys.path` — a fifth of the sender's
CPU in the webhook bench.)"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

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


def new_http_client(timeout: float) -> aiohttp.ClientSession:
    """Create it in the running event loop (the job's `start`)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(force_close=True, use_dns_cache=False, limit=0),
        trust_env=False,  # never through a proxy from the environment: it would reach what we refused
        timeout=aiohttp.ClientTimeout(total=timeout),
        auto_decompress=False,
    )


async def post(
    client: aiohttp.ClientSession,
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
    started = time.monotonic()
    status: int | None = None
    kept = b""
    try:
        async with asyncio.timeout(timeout):
            async with client.post(
                url,
                data=body,
                headers={**headers, "Host": endpoint.host_header},
                allow_redirects=False,
                server_hostname=endpoint.host if endpoint.scheme == "https" else None,
            ) as response:
                status = response.status
                while len(kept) < body_limit:
                    chunk = await response.content.read(body_limit - len(kept))
                    if not chunk:
                        break
                    kept += chunk
    except TimeoutError:
        return Attempt(status, _since(started), f"no complete answer within {timeout:g} s", "")
    except aiohttp.ClientError as exc:
        return Attempt(status, _since(started), f"{type(exc).__name__}: {exc}"[:500], "")
    text = kept.decode("utf-8", errors="replace")
    error = None if status is not None and 200 <= status < 300 else f"answered {status}"
    return Attempt(status, _since(started), error, text)


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
