"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the secret is
`whsec_` + base64 of random bytes; a signature is `v1,` + base64 of the HMAC-SHA256,
keyed by those bytes, of `<webhook-id>.<webhook-timestamp>.<body>`. Several
space-separated signatures are allowed, which is how a rotated secret overlaps
with the one before it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
SECRET_BYTES = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signature_header(secrets_in_use: Sequence[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: one signature per secret in use (newest first)."""
    return " ".join(sign(s, webhook_id, timestamp, body) for s in secrets_in_use)
