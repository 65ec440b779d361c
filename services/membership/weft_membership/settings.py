from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from weft_shared.settings import DataServiceSettings


class MembershipSettings(DataServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_MEMBERSHIP_", extra="ignore")

    http_port: int = 8001
    database: str = "weft_membership"
    # Its durable consumer: membership consumes only export messages (and ignores the rest).
    consumer_name: str = "membership"
