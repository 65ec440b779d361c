"""Webhook rules: which message types a subscription's patterns name, what it may
receive, and when a failed delivery is tried again. No I/O.

Patterns: a message type (`org.weft.event.scheduled.v1`) or one with `*` wildcards,
each standing for any run of characters, dots included (`org.weft.member.*`, `*`).

Retry schedule (Standard Webhooks' recommendation, as Svix runs it): after a failed
attempt the next one waits

    5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h

(8 attempts in all, the last about 27 h 35 min after the first), each wait varied
by up to ±20 % (jitter, so endpoints that failed together don't come back together).
Then the delivery is `failed`. An endpoint is delivered to in the order of its
messages, so a delivery waiting for a retry holds back that endpoint's later ones
(and only that endpoint's).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
JITTER = 0.2
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1

# Personal data never goes to network-wide endpoints (an integrator of the whole
# network has no business with people's contact details or profiles).
PERSONAL_TYPE_PREFIXES = ("org.weft.person.", "org.weft.profile.")
# The ping `POST .../test` sends: not a bus message, so no subscription pattern names it.
TEST_PING_TYPE = "org.weft.webhook.test.v1"
NETWORK_SCOPE = "network"
# Fields of a message's data meant for the notifications service alone: who a notice
# reaches travels sealed (weft_shared.messaging.sealed) and is no endpoint's business,
# even encrypted. They are removed from what a webhook is sent.
FOR_NOTIFICATIONS_ONLY = frozenset({"sealed_recipients"})

PATTERN_SHAPE = r"^[a-z0-9_.*]+$"


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")) + r"\Z")


def pattern_matches(pattern: str, message_type: str) -> bool:
    return _compiled(pattern).match(message_type) is not None


def matches_any(patterns: Iterable[str], message_type: str) -> bool:
    return any(pattern_matches(p, message_type) for p in patterns)


def is_personal(message_type: str) -> bool:
    return message_type.startswith(PERSONAL_TYPE_PREFIXES)


def receivable_types(known: Iterable[str], *, network: bool) -> list[str]:
    """The message types a subscription of this kind can be sent."""
    return sorted(t for t in known if not (network and is_personal(t)))


def patterns_matching_nothing(patterns: Sequence[str], receivable: Sequence[str]) -> list[str]:
    return [p for p in patterns if not any(pattern_matches(p, t) for t in receivable)]


def receives(patterns: Iterable[str], message_type: str, *, network: bool) -> bool:
    if network and is_personal(message_type):
        return False
    return matches_any(patterns, message_type)


def next_attempt_at(
    attempts_made: int, at: datetime, *, time_scale: float = 1.0, rng: random.Random | None = None
) -> datetime | None:
    """When to try again after `attempts_made` attempts all failed; None: give up.
    `time_scale` shrinks the schedule (tests only)."""
    if attempts_made < 1 or attempts_made > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[attempts_made - 1].total_seconds() * time_scale
    jitter = (rng or random).uniform(-JITTER, JITTER)
    return at + timedelta(seconds=delay * (1 + jitter))


def failing_too_long(failing_since: datetime | None, at: datetime, disable_after: timedelta) -> bool:
    return failing_since is not None and at - failing_since >= disable_after


def deliverable_data(data: dict[str, Any]) -> dict[str, Any]:
    """A message's data as an endpoint gets it: without the notifications service's own fields."""
    return {k: v for k, v in data.items() if k not in FOR_NOTIFICATIONS_ONLY}


def communities_named(data: Any) -> set[str]:
    """Every community id a message's data names (`community_id`, `from_community_id`,
    `cohost_community_ids`, ... at any depth)."""
    named: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            if key.endswith("community_id") and isinstance(value, str):
                named.add(value)
            elif key.endswith("community_ids") and isinstance(value, list):
                named.update(v for v in value if isinstance(v, str))
            else:
                named |= communities_named(value)
    elif isinstance(data, list):
        for value in data:
            named |= communities_named(value)
    return named
