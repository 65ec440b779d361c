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
