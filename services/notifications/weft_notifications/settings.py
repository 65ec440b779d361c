from __future__ import annotations

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
