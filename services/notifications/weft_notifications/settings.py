from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from weft_notifications.domain.digest_periods import Weekday, is_timezone
from weft_shared.settings import DataServiceSettings

# Public on purpose: anyone could forge unsubscribe links with it, so it only works in dev.
DEV_UNSUBSCRIBE_KEY = "weft-dev-unsubscribe-key--never-use-outside-dev"


class NotificationsSettings(DataServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_NOTIFICATIONS_", extra="ignore")

    http_port: int = 8003
    database: str = "weft_notifications"
    # The durable consumer of every message on the stream (replicas share it).
    consumer_name: str = "notifications"
    # The public base URL of the suite (the gateway, or the web app once there is one):
    # links in mails and unsubscribe URLs are built on it.
    public_base_url: str = "http://127.0.0.1:8080"
    # The web app's public address. When set, the links people click in mails open its pages
    # (the inbox, preferences, a community, an invitation, the unsubscribe page) instead of
    # API paths; the List-Unsubscribe header keeps the API's one-click URL (RFC 8058).
    web_base_url: str | None = None
    # The network's name, in every mail and notification text.
    network_name: str = "Weft"

    # -- email (jobs/email_sender.py) ------------------------------------------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_user: str | None = None
    smtp_password: str | None = None
    # STARTTLS after connecting (port 587), or TLS from the first byte (port 465); not both.
    smtp_starttls: bool = False
    smtp_tls: bool = False
    smtp_timeout_seconds: float = Field(30.0, gt=0)
    mail_from: str = "Weft <notifications@weft.invalid>"
    # How often the sender looks for due mails, how long a claimed mail is held before
    # another replica may take it over (a sender that died mid-send), and the back-off.
    email_poll_seconds: float = Field(2.0, gt=0)
    email_lease_seconds: float = Field(120.0, gt=0)
    email_retry_base_seconds: float = Field(60.0, gt=0)
    email_retry_max_seconds: float = Field(6 * 3600.0, gt=0)
    email_max_attempts: int = Field(12, ge=1)
    # Signs unsubscribe links (HMAC-SHA256); the dev default is public, so refused outside dev.
    unsubscribe_key: str = DEV_UNSUBSCRIBE_KEY

    # -- retention (storage/retention.py): TTL indexes, updated on start when changed ----
    # Read inbox items go this many days after being read (unread ones stay until read).
    inbox_retention_days: float = Field(365.0, gt=0)
    # Finished webhook deliveries (succeeded or failed), counted from when they finished.
    webhook_delivery_retention_days: float = Field(30.0, gt=0)
    # Sent (or finally failed) mail records, counted from when they were sent or gave up.
    email_retention_days: float = Field(90.0, gt=0)

    # -- digests (jobs/digests.py) ---------------------------------------------------
    digest_poll_seconds: float = Field(60.0, gt=0)
    digest_default_timezone: str = "Europe/London"
    digest_default_hour: int = Field(8, ge=0, le=23)
    digest_default_weekly_day: Weekday = "monday"

    @model_validator(mode="after")
    def _refuse_dev_unsubscribe_key_outside_dev(self) -> NotificationsSettings:
        if self.platform.env != "dev":
            if self.unsubscribe_key == DEV_UNSUBSCRIBE_KEY:
                raise ValueError(
                    "WEFT_NOTIFICATIONS_UNSUBSCRIBE_KEY is the public dev key; it is refused unless WEFT_ENV=dev"
                )
            if len(self.unsubscribe_key) < 32:
                raise ValueError("WEFT_NOTIFICATIONS_UNSUBSCRIBE_KEY must be at least 32 characters")
        if not is_timezone(self.digest_default_timezone):
            raise ValueError("WEFT_NOTIFICATIONS_DIGEST_DEFAULT_TIMEZONE must be an IANA zone, e.g. Europe/London")
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("set one of WEFT_NOTIFICATIONS_SMTP_STARTTLS and WEFT_NOTIFICATIONS_SMTP_TLS, not both")
        return self

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

    # The live stream (GET /v1/me/stream): a `: keep-alive` comment this often keeps proxies from
    # closing an idle connection; `retry:` tells the client how soon to reconnect.
    stream_heartbeat_seconds: float = Field(15.0, gt=0)
    stream_retry_milliseconds: int = Field(3000, ge=0)
    # A client that takes longer than this to accept one write is disconnected, not buffered for.
    stream_send_timeout_seconds: float = Field(30.0, gt=0)
    # How a process hears of items other replicas wrote: a change stream on `inbox_counters`, or
    # (false, for a server without change streams, and meanwhile whenever the change stream fails)
    # one query per process reading the counters of everyone connected to it, this often.
    stream_watch_changes: bool = True
    stream_poll_seconds: float = Field(1.0, gt=0)
