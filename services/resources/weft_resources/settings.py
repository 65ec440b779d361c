from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from weft_shared.settings import DataServiceSettings


class ResourcesSettings(DataServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_RESOURCES_", extra="ignore")

    http_port: int = 8004
    database: str = "weft_resources"
    # The durable consumer of membership messages (replicas share it).
    consumer_name: str = "resources"
    # Public base URL of the suite (the gateway's), for links in what the service serves.
    public_base_url: str = "http://127.0.0.1:8080"
    # The largest note (Markdown source), in characters.
    max_note_chars: int = Field(200_000, ge=1)
    # How often each replica looks for items whose review-by date has come, in seconds.
    review_poll_seconds: float = Field(5.0, gt=0, le=3600)
