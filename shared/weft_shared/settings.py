"""Settings shared by every Weft process.

Each service composes `PlatformSettings` (env prefix ``WEFT_``) with its own
settings class (env prefix ``WEFT_<SERVICE>_``), so an operator configures the
network-wide things once and overrides per service only what differs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from weft_shared.messaging.sealed import parse_key

# Public on purpose: anyone can mint tokens with it, so it only works in dev.
DEV_SIGNING_KEY = "weft-dev-signing-key--never-use-outside-dev"
DEV_ISSUER = "weft-dev"
# Public on purpose (base64url of "weft-dev-message-sealing-key--never-use-outside-dev"):
# anyone can open sealed recipients with it, so it only works in dev.
DEV_SEALING_KEY = "d2VmdC1kZXYtbWVzc2FnZS1zZWFsaW5nLWtleS0tbmV2ZXItdXNlLW91dHNpZGUtZGV2"
AUDIENCE = "weft"


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_", extra="ignore")

    env: Literal["dev", "production"] = "production"
    # One server, or a cluster's servers separated by commas (the client fails over between them).
    nats_url: str = "nats://127.0.0.1:4222"
    mongodb_url: str = Field(
        "mongodb://127.0.0.1:27017",
        validation_alias=AliasChoices("MONGODB_URL", "WEFT_MONGODB_URL"),
    )
    stream_name: str = "WEFT"
    # How long the stream keeps messages, so an integrator can come back and replay.
    stream_max_age_days: float = 30.0
    # Copies of the stream (and the dead-letter stream, and the gateway's rate-limit bucket) kept
    # by a NATS cluster: 3 in production (a quorum survives one node), 1 on a single server.
    stream_replicas: int = Field(1, ge=1, le=5)
    # How long the dead-letter stream keeps what consumers gave up on (for `weft dlq`).
    dead_letter_max_age_days: float = 30.0
    # Prefix of every subject; tests use their own to isolate runs on one server.
    subject_prefix: str = "weft"

    # Auth: OIDC (JWKS) in production, a shared HS256 key in dev.
    auth_jwks_url: str | None = None
    auth_issuer: str = DEV_ISSUER
    auth_audience: str = AUDIENCE
    auth_signing_key: str | None = None

    # Seals the recipients a message may not name (weft_shared.messaging.sealed): the same
    # key in every service that seals or opens them (resources, notifications).
    message_sealing_key: str | None = None

    log_level: str = "INFO"
    log_json: bool = True
    # When set, `/metrics` asks for `Authorization: Bearer <this>` (Prometheus' `authorization`
    # scrape setting): set it wherever a process's port is reachable from outside (gateway, web).
    metrics_token: str | None = None

    @property
    def nats_servers(self) -> list[str]:
        return [url.strip() for url in self.nats_url.split(",") if url.strip()]

    @model_validator(mode="after")
    def _refuse_dev_key_outside_dev(self) -> PlatformSettings:
        if self.auth_signing_key is None and self.env == "dev":
            self.auth_signing_key = DEV_SIGNING_KEY
        if self.env != "dev":
            if self.auth_signing_key == DEV_SIGNING_KEY:
                raise ValueError("WEFT_AUTH_SIGNING_KEY is the public dev key; it is refused unless WEFT_ENV=dev")
            if self.auth_jwks_url is None and not self.auth_signing_key:
                raise ValueError(
                    "no token verification configured: set WEFT_AUTH_JWKS_URL "
                    "(OIDC provider) or WEFT_AUTH_SIGNING_KEY, or WEFT_ENV=dev"
                )
            if self.auth_signing_key is not None and len(self.auth_signing_key) < 32:
                raise ValueError("WEFT_AUTH_SIGNING_KEY must be at least 32 characters")
        return self

    @model_validator(mode="after")
    def _refuse_dev_sealing_key_outside_dev(self) -> PlatformSettings:
        if self.message_sealing_key is None and self.env == "dev":
            self.message_sealing_key = DEV_SEALING_KEY
        if self.env != "dev" and self.message_sealing_key == DEV_SEALING_KEY:
            raise ValueError("WEFT_MESSAGE_SEALING_KEY is the public dev key; it is refused unless WEFT_ENV=dev")
        if self.message_sealing_key is not None:
            parse_key(self.message_sealing_key)
        return self

    def sealing_key(self) -> bytes:
        """The shared sealing key's bytes; a clear error where a service needs it and it is not set."""
        if self.message_sealing_key is None:
            raise ValueError(
                "WEFT_MESSAGE_SEALING_KEY is not set: the resources and notifications services seal and open "
                "message recipients with it (the same key in both; at least 32 random bytes, hex or base64)"
            )
        return parse_key(self.message_sealing_key)


class ServiceSettings(BaseSettings):
    """Base for one service's own settings; subclasses set their env prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    platform: PlatformSettings = Field(default_factory=PlatformSettings)


class DataServiceSettings(ServiceSettings):
    """A service that owns a database and talks on the bus (all but the gateway)."""

    database: str = "weft"
    outbox_sweep_interval_seconds: float = 1.0
    # Test hook for the crash-between-commit-and-publish tests; never set in production.
    crash_before_publish: bool = False
    # Test hook for the shutdown tests: each consumed message's transaction waits this long
    # before it commits, so a signal can arrive mid-message; never set in production.
    handler_delay_seconds: float = Field(0.0, ge=0)
    # How long a write's first attempt holds its Idempotency-Key before a retry may take it
    # over (or, if its change committed, be told so): past mongod's 60 s transaction limit.
    idempotency_lease_seconds: float = Field(60.0, gt=0)
    # Where this service's durable consumer starts when it is first created: `all` (the
    # whole stream, so a new service builds its read models from what the stream keeps) or
    # `new` (only what is published from then on: a throwaway consumer, e.g. in a test).
    consumer_start: Literal["all", "new"] = "all"

    @model_validator(mode="after")
    def _crash_hook_only_in_dev(self) -> DataServiceSettings:
        if self.handler_delay_seconds and self.platform.env != "dev":
            prefix = str(self.model_config.get("env_prefix", "WEFT_"))
            raise ValueError(f"{prefix}HANDLER_DELAY_SECONDS is a test hook; it needs WEFT_ENV=dev")
        if self.crash_before_publish and self.platform.env != "dev":
            prefix = str(self.model_config.get("env_prefix", "WEFT_"))
            raise ValueError(f"{prefix}CRASH_BEFORE_PUBLISH is a test hook; it needs WEFT_ENV=dev")
        return self
