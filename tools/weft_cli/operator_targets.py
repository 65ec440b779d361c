"""Where the operator commands find NATS, MongoDB and the services: the option, else the
environment, else the running `weft dev` on the default data folder, else the defaults."""

from __future__ import annotations

import os

import nats
from nats.aio.client import Client

from weft_cli.devstack import running_nats_url, running_stack
from weft_cli.services import BACKENDS, SERVICES
from weft_shared.settings import PlatformSettings

# The services that own a database and an outbox.
DATA_SERVICES = list(BACKENDS)


def platform() -> PlatformSettings:
    # Operator commands verify no tokens, so dev auth defaults are fine against any stack.
    return PlatformSettings(env="dev")


def nats_url(option: str | None) -> str:
    return option or os.environ.get("WEFT_NATS_URL") or running_nats_url() or platform().nats_url


def mongodb_url(option: str | None) -> str:
    return option or os.environ.get("MONGODB_URL") or running_stack().get("mongodb_url") or platform().mongodb_url


def database_name(service: str) -> str:
    return os.environ.get(f"{SERVICES[service].env_prefix}DATABASE") or f"weft_{service}"


def service_urls() -> dict[str, str]:
    """Each service's base URL: the running dev stack's, else the port settings' (127.0.0.1)."""
    running = running_stack().get("services")
    if isinstance(running, dict) and running:
        return {str(name): str(url) for name, url in running.items()}
    return {name: f"http://{spec.host()}:{spec.port()}" for name, spec in SERVICES.items()}


async def connect_nats(url: str, name: str) -> Client:
    """One quick connection: nats-py otherwise retries a first connect for minutes and
    prints a traceback per attempt."""

    async def quiet(_exc: Exception) -> None:
        return None

    client: Client = await nats.connect(
        url,
        name=name,
        connect_timeout=3,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.2,
        error_cb=quiet,
    )
    return client
