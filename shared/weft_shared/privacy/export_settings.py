"""Settings of personal-data exports, the same in every service (env prefix `WEFT_EXPORT_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The services that hold personal data; membership waits for a part from each.
DATA_SERVICES = ("membership", "events", "notifications", "resources")


class ExportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_EXPORT_", extra="ignore")

    # How long parts and archives are kept in the object store (its bucket's TTL), and
    # how long a ready archive may be downloaded.
    retention_days: float = Field(7.0, gt=0)
    # The services whose part an archive needs.
    services: list[str] = Field(default_factory=lambda: list(DATA_SERVICES), min_length=1)
    # A request still missing parts this long after it was made is marked incomplete.
    deadline_minutes: float = Field(60.0, gt=0)
    # How often membership looks for requests past their deadline.
    deadline_poll_seconds: float = Field(30.0, gt=0)
    # A person asking again this soon after an export gets that one back rather than a new one:
    # each export reads every service and sends a mail, so asking is not free.
    min_interval_minutes: float = Field(60.0, ge=0)
    # The export bucket's size limit (parts and archives of everyone's exports together).
    max_store_bytes: int = Field(10 * 1024**3, ge=1024**2)
