from __future__ import annotations

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from weft_shared.settings import ServiceSettings


class MembershipSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_MEMBERSHIP_", extra="ignore")

    http_port: int = 8001
    database: str = "weft_membership"
    outbox_sweep_interval_seconds: float = 1.0
    invitation_max_days: int = 30
    # Test hook for the crash-between-write-and-publish test; never set in production.
    crash_before_publish: bool = False

    @model_validator(mode="after")
    def _crash_hook_only_in_dev(self) -> MembershipSettings:
        if self.crash_before_publish and self.platform.env != "dev":
            raise ValueError("WEFT_MEMBERSHIP_CRASH_BEFORE_PUBLISH is a test hook; it needs WEFT_ENV=dev")
        return self
