"""Gateway settings: where each service lives and the limits applied at the edge."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import SettingsConfigDict

from weft_shared.settings import ServiceSettings

SERVICES = ("membership", "events", "notifications", "resources")


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_GATEWAY_", extra="ignore", populate_by_name=True)

    # The gateway is what operators and clients reach, so it gets the well-known port.
    http_port: int = Field(8080, validation_alias=AliasChoices("WEFT_HTTP_PORT", "WEFT_GATEWAY_HTTP_PORT"))

    # Base URLs of the services (scheme://host:port, no path). A route whose service is unset answers 503.
    membership_url: str | None = None
    events_url: str | None = None
    notifications_url: str | None = None
    resources_url: str | None = None

    # Connect and read timeout towards a service; a slower answer becomes 504.
    upstream_timeout_seconds: float = Field(10.0, gt=0)
    # Pooled connections per service.
    upstream_max_connections: int = Field(256, ge=1)
    # The gateway buffers a request body before forwarding it, so this also bounds memory per request.
    max_body_bytes: int = Field(1024 * 1024, ge=0)
    # File uploads (routes marked `upload`) are streamed, not buffered, so they may be larger: the
    # service applies its own file-size limit (resources: 50 MB) below this one.
    max_upload_bytes: int = Field(64 * 1024 * 1024, ge=0)

    # Token bucket per principal (or per client address on unauthenticated routes); 0 disables it.
    rate_limit_per_minute: float = Field(600.0, ge=0)
    rate_limit_burst: int = Field(100, ge=1)
    # Kept in a JetStream key-value bucket shared by every gateway replica (false: per process).
    rate_limit_shared: bool = True
    # Tokens a replica takes from the shared bucket in one round trip at most, and how long it
    # may spend them before they are forfeited (forfeiting only ever admits less).
    rate_limit_lease_tokens: int = Field(8, ge=1)
    rate_limit_lease_seconds: float = Field(1.0, gt=0, le=60)
    # Whether /readyz also asks every service: true suits `make run` and compose start order;
    # behind a load balancer (Kubernetes) set false, or one service's outage takes every gateway
    # out of rotation and the whole API with it (a route whose service is down answers 502/503).
    ready_needs_upstreams: bool = True
    # One line per proxied request (method, route template, status, duration, upstream, subject, request id).
    access_log: bool = True

    # How long the merged OpenAPI document is reused before the services are asked again.
    openapi_cache_seconds: float = Field(30.0, ge=0)
    # The committed AsyncAPI document; defaults to the copy shipped inside this package.
    asyncapi_path: Path | None = None

    @field_validator("membership_url", "events_url", "notifications_url", "resources_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        # Forwarded paths start with "/", so a base ending in "/" would double it.
        return value.rstrip("/") or None if value is not None else None

    def upstream_urls(self) -> dict[str, str | None]:
        return {name: getattr(self, f"{name}_url") for name in SERVICES}
