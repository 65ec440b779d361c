"""The NATS broker every service uses, and the one durable stream that keeps all messages."""

from __future__ import annotations

import logging

from faststream.nats import NatsBroker
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from weft_shared.contracts.subjects import all_subjects
from weft_shared.settings import PlatformSettings

log = logging.getLogger("weft.messaging")

DUPLICATE_WINDOW_SECONDS = 120.0
DLQ_SUFFIX = "_DLQ"


def create_broker(platform: PlatformSettings, *, client_name: str) -> NatsBroker:
    # Reconnect forever: a NATS restart must not take a service down; the outbox
    # keeps what could not be published meanwhile.
    return NatsBroker(
        platform.nats_servers,
        name=client_name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        connect_timeout=5,
        logger=logging.getLogger(f"weft.broker.{client_name}"),
        # FastStream logs every message received and processed; that is debug detail,
        # failures are logged by our consumer at warning level.
        log_level=logging.DEBUG,
    )


def stream_config(platform: PlatformSettings) -> StreamConfig:
    return StreamConfig(
        name=platform.stream_name,
        description="All Weft domain messages (CloudEvents 1.0, JSON)",
        subjects=[all_subjects(platform.subject_prefix)],
        retention=RetentionPolicy.LIMITS,
        discard=DiscardPolicy.OLD,
        storage=StorageType.FILE,
        max_age=platform.stream_max_age_days * 86400,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=platform.stream_replicas,
    )


def dead_letter_config(platform: PlatformSettings) -> StreamConfig:
    return StreamConfig(
        name=platform.stream_name + DLQ_SUFFIX,
        description="Messages a consumer gave up on; inspect and replay by hand",
        subjects=[dead_letter_subject(platform, ">")],
        storage=StorageType.FILE,
        max_age=platform.dead_letter_max_age_days * 86400,
        num_replicas=platform.stream_replicas,
    )


def dead_letter_subject(platform: PlatformSettings, rest: str) -> str:
    return f"{platform.subject_prefix}_dlq.{rest}"


async def ensure_streams(broker: NatsBroker, platform: PlatformSettings) -> None:
    """Create or update the main and dead-letter streams (idempotent, every start)."""
    js = broker.config.connection_state.stream
    for config in (stream_config(platform), dead_letter_config(platform)):
        try:
            await js.stream_info(config.name or "")
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
            log.info("created stream %s", config.name)
