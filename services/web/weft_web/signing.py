"""HMAC-signed small values: CSRF tokens bound to the browser's cookie, flash messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def sign(key: bytes, purpose: str, value: str) -> str:
    mac = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def verify(key: bytes, purpose: str, value: str, signature: str) -> bool:
    return hmac.compare_digest(sign(key, purpose, value), signature)


def seal_json(key: bytes, purpose: str, data: Any) -> str:
    """`payload.signature`: readable by anyone, changeable by no one (flash messages)."""
    payload = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{payload}.{sign(key, purpose, payload)}"


def open_json(key: bytes, purpose: str, sealed: str) -> Any | None:
    payload, _, signature = sealed.partition(".")
    if not payload or not verify(key, purpose, payload, signature):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None
