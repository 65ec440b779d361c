"""`WEFT_GATEWAY_READY_NEEDS_UPSTREAMS=false` (the Kubernetes base sets it): a gateway whose
service is down stays ready, and that service's routes answer 502, the others as usual."""

from __future__ import annotations

import httpx

from tests.conftest import StartService
from tests.support.api import new_person
from weft_cli.procs import free_port
from weft_cli.testing import ServiceProcess


async def test_a_service_down_leaves_the_gateway_ready(
    start_service: StartService, membership_service: ServiceProcess
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # an events service that is not there
    env = {"WEFT_GATEWAY_MEMBERSHIP_URL": membership_service.url, "WEFT_GATEWAY_EVENTS_URL": nobody}
    person = new_person("ready")
    on_its_own = start_service("gateway", {**env, "WEFT_GATEWAY_READY_NEEDS_UPSTREAMS": "false"})
    async with httpx.AsyncClient(base_url=on_its_own.url, timeout=30) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/v1/me", headers=person.headers)).status_code == 200
        assert (await client.get("/v1/events/e1", headers=person.headers)).status_code == 502
