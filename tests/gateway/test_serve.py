"""`weft gateway` as an operator runs it: a process configured only by environment variables."""

from __future__ import annotations

import asyncio

import httpx

from tests.gateway.servers import echo_upstream, token
from weft_cli.procs import free_port
from weft_cli.testing import ServiceProcess, clean_base_env


async def test_weft_gateway_reads_its_settings_from_the_environment() -> None:
    async with echo_upstream("membership") as membership:
        port = free_port()
        env = {
            **clean_base_env(),
            "WEFT_ENV": "dev",
            "WEFT_GATEWAY_MEMBERSHIP_URL": membership.url,
            "WEFT_GATEWAY_RATE_LIMIT_BURST": "2",
            "WEFT_GATEWAY_RATE_LIMIT_PER_MINUTE": "1",
        }
        # ServiceProcess sets WEFT_HTTP_PORT, the variable the gateway reads its port from.
        gateway = ServiceProcess("gateway", env, port)
        # Started from a thread: this loop must stay free to run the echo service meanwhile.
        await asyncio.to_thread(gateway.start)
        try:
            async with httpx.AsyncClient(base_url=gateway.url, timeout=10) as client:
                headers = {"Authorization": f"Bearer {token('carol')}"}
                assert (await client.get("/v1/communities/c1", headers=headers)).json()["service"] == "membership"
                assert (await client.get("/v1/communities/c1", headers=headers)).status_code == 200
                assert (await client.get("/v1/communities/c1", headers=headers)).status_code == 429
                assert (await client.get("/readyz")).status_code == 200
                assert (await client.get("/v1/events")).status_code == 401
        finally:
            await asyncio.to_thread(gateway.stop)
        # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit code says little; the log does.
        assert "Application shutdown complete" in gateway.output(), gateway.output()
