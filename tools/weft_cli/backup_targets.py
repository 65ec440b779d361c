"""What `weft backup` and `weft restore` work on: each service's database and
durable consumer, named by the same environment variables the services read.

The CLI does not import the services (their settings refuse to load without
their secrets, which a backup job need not have); the defaults here are the
services' own, and a test checks that they agree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from weft_cli.services import SERVICES

# Every service that owns a database; the value: whether it has a durable consumer.
DATA_SERVICES: dict[str, bool] = {
    "membership": True,  # personal-data export requests
    "events": True,
    "notifications": True,
    "resources": True,
    "web": False,  # sign-in sessions only
}


@dataclass(frozen=True, slots=True)
class ServiceTarget:
    name: str
    database: str
    durable: str | None  # its durable consumer on the stream, if it consumes


def service_target(name: str, env: Mapping[str, str] = os.environ) -> ServiceTarget:
    if name not in DATA_SERVICES:
        raise ValueError(f"{name!r} has no database to back up; services with one: {', '.join(DATA_SERVICES)}")
    prefix = SERVICES[name].env_prefix
    database = env.get(f"{prefix}DATABASE") or f"weft_{name}"
    durable = (env.get(f"{prefix}CONSUMER_NAME") or name) if DATA_SERVICES[name] else None
    return ServiceTarget(name, database, durable)
