from __future__ import annotations

from pathlib import Path

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
    # Files: the largest upload, in bytes (413 past it; the gateway's max_upload_bytes must be above it).
    max_upload_bytes: int = Field(50 * 1024 * 1024, ge=1)
    # Where an upload is spooled while it is checked (None: the system's temporary folder).
    upload_spool_dir: str | None = None
    # GridFS contents no version claimed (a crash mid-upload) are deleted once this old.
    file_orphan_age_seconds: float = Field(3600.0, gt=0)
    file_orphan_poll_seconds: float = Field(300.0, gt=0)
    # Search: each replica's own index on local disk (default: a folder per HTTP port
    # under the system's temporary folder; give each replica its own folder).
    search_index_dir: Path | None = None
    search_poll_seconds: float = Field(0.25, gt=0)  # how often the feed is read (x4 while a change stream wakes it)
    search_margin_seconds: float = Field(2.0, ge=0)  # how far back each round re-reads
    search_window_seconds: float = Field(120.0, gt=0)  # how far back a sweep re-reads (> any transaction)
    search_sweep_seconds: float = Field(5.0, gt=0)
    # How often each replica looks for items whose review-by date has come, in seconds.
    review_poll_seconds: float = Field(5.0, gt=0, le=3600)
