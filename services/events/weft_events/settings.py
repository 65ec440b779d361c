from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from weft_shared.settings import DataServiceSettings


class EventsSettings(DataServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_EVENTS_", extra="ignore")

    http_port: int = 8002
    database: str = "weft_events"
    # Reminder offsets before each occurrence starts, in minutes (24 h and 1 h); at most
    # 30 days, so a reminder's time is always a date the services can compute with.
    reminder_offsets_minutes: list[Annotated[int, Field(ge=1, le=43_200)]] = Field(default_factory=lambda: [1440, 60])
    reminder_poll_seconds: float = 5.0
    # The durable consumer of membership messages (replicas share it).
    consumer_name: str = "events"
    # Public base URL used in calendar feeds' links: the gateway's (`weft dev` sets it to the gateway it starts).
    public_base_url: str = "http://127.0.0.1:8080"
