"""Where a webhook may point (SSRF): http(s) URLs of at most 2,048 characters, https
only outside dev, and hosts whose every address is public — not loopback, private,
link-local, multicast, unspecified, reserved, shared (CGNAT) or a cloud metadata
address — unless an allowlisted network holds it. Checked when a subscription is
made and again before each delivery, on the addresses the host resolves to then
(the delivery connects to the address it checked). No I/O here: resolving is the
caller's.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

MAX_URL_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Metadata services that are not in a special-purpose range (169.254.169.254 and AWS's
# fd00:ec2::254 already are): Azure's wire server, Alibaba Cloud's metadata.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("168.63.129.16", "100.100.100.200"))


class RefusedUrl(ValueError):
    """The URL may not be a webhook endpoint; the message says why."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    scheme: str
    host: str  # a name, or an address without brackets
    port: int
    target: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    require_https: bool
    allowed: tuple[Network, ...] = ()

    @classmethod
    def of(cls, *, require_https: bool, allowed: Iterable[str]) -> AddressPolicy:
        return cls(require_https, tuple(ipaddress.ip_network(n, strict=False) for n in allowed))

    def endpoint(self, url: str) -> Endpoint:
        """The URL's parts, or RefusedUrl for a URL that is not a usable http(s) URL."""
        if len(url) > MAX_URL_LENGTH:
            raise RefusedUrl(f"must be at most {MAX_URL_LENGTH} characters")
        try:
            parts: SplitResult = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise RefusedUrl(f"is not a valid URL ({exc})") from exc
        if parts.scheme not in ("http", "https"):
            raise RefusedUrl("must be an http or https URL")
        if self.require_https and parts.scheme != "https":
            raise RefusedUrl("must be an https URL")
        if not parts.hostname:
            raise RefusedUrl("must name a host")
        if "@" in parts.netloc:  # the owners' lists, logs and notices would show the credentials
            raise RefusedUrl("must not carry a user name or password (put a secret in the path)")
        if not url.isascii():  # e.g. U+202E would make a shown URL read differently: use punycode / %-escapes
            raise RefusedUrl("must be ASCII (encode a name with punycode and a path with %-escapes)")
        if parts.fragment:
            raise RefusedUrl("must not have a #fragment")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        default = 443 if parts.scheme == "https" else 80
        return Endpoint(parts.scheme, parts.hostname, port or default, target)

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to `address` is refused; None if it is allowed."""
        if any(address in network for network in self.allowed):
            return None
        mapped = getattr(address, "ipv4_mapped", None)
        if mapped is not None:
            return self.refusal(mapped)
        for hit, what in (
            (address.is_unspecified, "an unspecified address"),
            (address.is_loopback, "a loopback address"),
            (address.is_link_local, "a link-local address"),
            (address.is_multicast, "a multicast address"),
            (address.is_private, "a private address"),
            (address.is_reserved, "a reserved address"),
            (address in METADATA_ADDRESSES, "a cloud metadata address"),
            (not address.is_global, "not a public address"),
        ):
            if hit:
                return f"{address} is {what}"
        return None

    def first_refusal(self, addresses: Sequence[IPAddress]) -> str | None:
        """Every address a host resolves to must be allowed (a name that resolves to a
        public and a private address is refused: the connection could take either)."""
        if not addresses:
            return "the host resolves to no address"
        for address in addresses:
            reason = self.refusal(address)
            if reason is not None:
                return reason
        return None


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
