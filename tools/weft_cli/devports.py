"""The ports `weft dev` binds, from the environment variables that set them, checked before anything starts.

A port set in the environment (or the usual default) is used as is: if something
else holds it, the runner stops and names the port, the variable and the holder,
rather than quietly moving a service where nothing points at it. `--random-ports`
picks free ports for whatever the environment does not set.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from weft_cli.ports import port_holder
from weft_cli.procs import free_port, port_is_free

# The dev runner's own servers (the services' ports are in `services.SERVICES`).
NATS_PORT = ("nats-server", ("WEFT_DEV_NATS_PORT",), 4222)
NATS_MONITOR_PORT = ("nats-server monitoring", ("WEFT_DEV_NATS_MONITOR_PORT",), 8222)
DB_PORT = ("the database (SecantusDB)", ("WEFT_DEV_DB_PORT",), 27017)
# 1025: the port local mail catchers (MailHog, Mailpit) listen on by custom.
SMTP_PORT = ("the mail catcher (SMTP)", ("WEFT_DEV_SMTP_PORT",), 1025)


class PortsUnavailable(RuntimeError):
    """A port the runner must bind is taken or mis-set; the message says which and by whom."""


@dataclass(frozen=True)
class PortChoice:
    what: str
    variable: str  # the variable that sets it (the one that did, when one did)
    port: int
    from_env: bool


def choose(
    what: str, variables: Sequence[str], default: int, *, random_ports: bool, env: Mapping[str, str]
) -> PortChoice:
    for variable in variables:
        value = env.get(variable, "").strip()
        if value:
            if not value.isdigit() or not 0 < int(value) < 65536:
                raise PortsUnavailable(f"{variable}={value!r} is not a TCP port (1 to 65535)")
            return PortChoice(what, variable, int(value), from_env=True)
    return PortChoice(what, variables[0], free_port() if random_ports else default, from_env=False)


def check_free(choices: Sequence[PortChoice]) -> None:
    """Raise `PortsUnavailable` listing every port that is taken or chosen twice."""
    problems = []
    by_port = collections.defaultdict(list)
    for choice in choices:
        by_port[choice.port].append(choice)
    for port, sharing in by_port.items():
        if len(sharing) > 1:
            problems.append(f"port {port} is chosen for " + " and ".join(f"{c.what} ({c.variable})" for c in sharing))
    for choice in choices:
        if not port_is_free(choice.port):
            how = f"{choice.variable}={choice.port}" if choice.from_env else f"the default; set {choice.variable}"
            problems.append(f"port {choice.port} for {choice.what} ({how}) is taken by {port_holder(choice.port)}")
    if problems:
        raise PortsUnavailable(
            "cannot start: " + "; ".join(problems)
            + ". Stop what holds it, set the variable to a free port, or run `weft dev --random-ports`."
        )  # fmt: skip
