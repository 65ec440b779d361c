"""Resolving a webhook's host and checking every address it gives against the
address policy: at create time, and before each delivery (DNS can change between
the two: the delivery connects to the address checked here)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass

from weft_notifications.domain.address_policy import AddressPolicy, Endpoint, IPAddress, RefusedUrl, literal_address


@dataclass(frozen=True, slots=True)
class CheckedEndpoint:
    endpoint: Endpoint
    address: IPAddress  # the one to connect to


async def resolve(host: str, port: int) -> list[IPAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedUrl(f"host {host!r} does not resolve ({exc})") from exc
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = literal_address(str(sockaddr[0]).split("%", 1)[0])
        if address is not None and address not in found:
            found.append(address)
    return found


async def checked_endpoint(policy: AddressPolicy, url: str) -> CheckedEndpoint:
    """The URL's endpoint and an allowed address to reach it at; RefusedUrl says why not."""
    endpoint = policy.endpoint(url)
    addresses = await resolve(endpoint.host, endpoint.port)
    reason = policy.first_refusal(addresses)
    if reason is not None:
        raise RefusedUrl(
            f"is refused: {endpoint.host} resolves to {reason.replace(' is ', ', which is ', 1)}"
            if literal_address(endpoint.host) is None
            else f"is refused: {reason}"
        )
    return CheckedEndpoint(endpoint, addresses[0])
