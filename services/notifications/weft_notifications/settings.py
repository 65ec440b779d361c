from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from weft_shared.settings import DataServiceSettings


class NotificationsSettings(DataServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_NOTIFICATIONS_", extra="ignore")

    http_port: int = 8003
    database: str = "weft_notifications"
    # The durable consumer of every message on the stream (replicas share it).
    consumer_name: str = "notifications"
    # The public base URL of the suite (the gateway, or the web app once there is one):
    # links in mails and unsubscribe URLs are built on it.
    public_base_url: str = "http://127.0.0.1:8080"
    # The network's name, in every mail and notification text.
    network_name: str = "Weft"

    # Network admins (manage `/v1/webhooks`): a token whose claim `admin_roles_claim` (a
    # dotted path for nested claims, e.g. `realm_access.roles`) holds `admin_role`, or
    # whose subject is in `admin_subjects` (JSON list: WEFT_NOTIFICATIONS_ADMIN_SUBJECTS='["ana"]').
    admin_roles_claim: str = "roles"
    admin_role: str = "weft-admin"
    admin_subjects: list[str] = []
    # Webhooks. Addresses (CIDRs) webhooks may reach although they are not public
    # (JSON list, e.g. '["10.1.0.0/16"]'); https is required unless WEFT_ENV=dev.
    webhook_allowed_networks: list[str] = []
    # A 2xx within this many seconds is a successful delivery.
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    # Endpoints one replica sends to at once (each endpoint gets one delivery at a time, in order).
    webhook_concurrency: int = Field(32, ge=1)
    webhook_poll_interval_seconds: float = Field(0.5, gt=0)
    # An endpoint whose deliveries have all failed for this long is disabled and its owners told.
    webhook_disable_after_days: float = Field(5.0, gt=0)
    # After a secret rotation the old secret still signs (beside the new one) for this long.
    webhook_secret_overlap_hours: float = Field(24.0, ge=0)
    # How much of a response body is read (and kept, as text, in the delivery log).
    webhook_response_body_limit: int = Field(1024, ge=0, le=65536)
    # Multiplies the retry schedule (domain/webhooks.py); tests shrink it.
    webhook_retry_time_scale: float = Field(1.0, gt=0)
