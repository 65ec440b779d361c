"""The table of Weft services the CLI can serve; a new service is one line here."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    factory: str  # "package.module:create_app", imported by uvicorn only when served
    default_port: int
    env_prefix: str  # the prefix of the service's own pydantic settings
    port_env_override: str | None = None

    @property
    def port_env(self) -> str:
        return self.port_env_override or f"{self.env_prefix}HTTP_PORT"

    @property
    def port_envs(self) -> tuple[str, ...]:
        """Every variable that sets the port, in the order the service's settings read them."""
        own = f"{self.env_prefix}HTTP_PORT"
        return (self.port_env,) if self.port_env == own else (self.port_env, own)

    @property
    def host_env(self) -> str:
        return f"{self.env_prefix}HTTP_HOST"

    def host(self, env: Mapping[str, str] = os.environ) -> str:
        return env.get(self.host_env) or "127.0.0.1"

    def port(self, env: Mapping[str, str] = os.environ) -> int:
        value = next((env[name] for name in self.port_envs if env.get(name)), None)
        return int(value) if value else self.default_port


_SPECS = [
    ServiceSpec("membership", "weft_membership.app:create_app", 8001, "WEFT_MEMBERSHIP_"),
    ServiceSpec("events", "weft_events.app:create_app", 8002, "WEFT_EVENTS_"),
    ServiceSpec("notifications", "weft_notifications.app:create_app", 8003, "WEFT_NOTIFICATIONS_"),
    ServiceSpec("resources", "weft_resources.app:create_app", 8004, "WEFT_RESOURCES_"),
    # The gateway is the suite's front door, so its port is the short, platform-wide one.
    ServiceSpec(
        "gateway",
        "weft_gateway.app:create_app",
        8080,
        "WEFT_GATEWAY_",
        port_env_override="WEFT_HTTP_PORT",
    ),
    # The web app: a client of the gateway, started after it.
    ServiceSpec("web", "weft_web.app:create_app", 8090, "WEFT_WEB_"),
]
SERVICES: dict[str, ServiceSpec] = {spec.name: spec for spec in _SPECS}

# Clients of the gateway: started after it, never behind it.
FRONTENDS = ["web"]
# `weft dev` starts these in order (backends first, then the gateway, then the web app) and stops them in reverse.
BACKENDS = [name for name in SERVICES if name not in ("gateway", *FRONTENDS)]


def gateway_backend_env(backend_ports: Mapping[str, int]) -> dict[str, str]:
    """How the gateway finds each backend: WEFT_GATEWAY_<NAME>_URL."""
    return {f"WEFT_GATEWAY_{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in backend_ports.items()}


def weft_command() -> list[str]:
    """How to run `weft` with this same interpreter (the venv's console script if present)."""
    script = Path(sys.executable).parent / "weft"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "weft_cli"]
