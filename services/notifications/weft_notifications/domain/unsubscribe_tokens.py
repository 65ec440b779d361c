"""Unsubscribe tokens: a URL-safe value naming a person, what they get mail about
(a notification type, or a digest) and the community, signed with HMAC-SHA256 so
that nobody can turn off someone else's mail. No login is needed to use one:
the signature is the proof that it came from a mail we sent to that person.

    <base64url(JSON {"u": person, "t": type or "digest_daily", "c": community or null})>.<base64url(HMAC)>
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from weft_notifications.domain.catalogue import NotificationType

DIGEST_SUBJECTS = ("digest_daily", "digest_weekly")
MAX_USER_ID_LENGTH = 256
# Community ids are ObjectIds; one goes into a field path (`communities.<id>`), so nothing else is read.
COMMUNITY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_TOKEN_LENGTH = 600


@dataclass(frozen=True, slots=True)
class UnsubscribeSubject:
    user_id: str
    subject: str  # a NotificationType value, or one of DIGEST_SUBJECTS
    community_id: str | None

    @property
    def is_digest(self) -> bool:
        return self.subject in DIGEST_SUBJECTS


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key: str, body: str) -> str:
    return _b64(hmac.new(key.encode(), body.encode(), hashlib.sha256).digest())


def sign(key: str, subject: UnsubscribeSubject) -> str:
    payload = {"u": subject.user_id, "t": subject.subject, "c": subject.community_id}
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_signature(key, body)}"


def verify(key: str, token: str) -> UnsubscribeSubject | None:
    """The subject a token names, or None if it is not one we signed (or names nothing we know)."""
    if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature, _signature(key, body)):
        return None
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None
    user, subject, community = payload.get("u"), payload.get("t"), payload.get("c")
    if not isinstance(user, str) or not 0 < len(user) <= MAX_USER_ID_LENGTH:
        return None
    if subject not in DIGEST_SUBJECTS and subject not in NotificationType.__members__.values():
        return None
    if community is not None and (not isinstance(community, str) or not COMMUNITY_ID.fullmatch(community)):
        return None
    return UnsubscribeSubject(user, str(subject), community)
