"""Sealed recipients: people a notice must reach whom a message may not name.

The anonymous asker of a question is told of a reply, yet the bus (read by
webhooks, the stream, integrators) must never say who asked. Such a list of user
ids travels in the message as `sealed_recipients`: encrypted with AES-256-GCM under
a key every service of the network shares (`WEFT_MESSAGE_SEALING_KEY`), for the
notifications service to open.

- The message's own id is the associated data: a sealed list copied into another
  message does not open there.
- A random 96-bit nonce per seal; the AES key is derived from the shared key with
  HKDF-SHA256 (so the setting may be any ≥ 32 random bytes, and this key is used
  for nothing else).
- The plaintext (a JSON list) is padded with spaces to a multiple of
  `PAD_BYTES` (room for 16 ids of up to 64 characters), so the length tells only
  roughly how many people are on it.
- The text is versioned: `v1.<base64url, no padding: nonce + ciphertext + tag>`.

A use case seals with the id of the message it is about to announce, so it picks
the id first and hands it to the outbox:

    message_id = new_message_id()  # weft_shared.contracts.envelope
    sealed = seal(followers, platform.sealing_key(), message_id)
    tx.announce(ReplyPosted(..., sealed_recipients=sealed), aggregate=..., community_id=..., message_id=message_id)

(`Transaction.announce` builds the envelope with that id; a retried transaction
runs the use case again and seals again, with a new id.)
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = "v1"
MIN_KEY_BYTES = 32
NONCE_BYTES = 12
IDS_PER_BLOCK = 16
ID_ROOM = 64
PAD_BYTES = IDS_PER_BLOCK * ID_ROOM
# Far beyond any thread's followers; stops a hostile message from making us decrypt megabytes.
MAX_SEALED_CHARS = 4_000_000
_HKDF_INFO = b"weft message sealing v1"
_HEX = re.compile(r"\A(?:[0-9a-fA-F]{2})+\Z")


class SealError(ValueError):
    """A sealed list that cannot be opened: another key, another message's, altered, or not one at all."""


def parse_key(text: str) -> bytes:
    """The shared key's bytes from its setting: hex, or base64 (standard or URL-safe,
    padding optional), at least 32 bytes. Raises ValueError naming the rule, never the key."""
    value = text.strip()
    raw: bytes | None = None
    if _HEX.match(value):
        raw = bytes.fromhex(value)
    else:
        padded = value + "=" * (-len(value) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) < MIN_KEY_BYTES:
        raise ValueError(
            f"WEFT_MESSAGE_SEALING_KEY must be at least {MIN_KEY_BYTES} random bytes, written in hex or base64 "
            "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
        )
    return raw


def _aead(key: bytes) -> AESGCM:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a sealing key has at least {MIN_KEY_BYTES} bytes")
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(key)
    return AESGCM(derived)


def _associated(message_id: str) -> bytes:
    return f"weft.sealed.{VERSION}:{message_id}".encode()


def seal(user_ids: Iterable[str], key: bytes, message_id: str) -> str:
    """The ids (each once, in order) sealed for the message `message_id`."""
    ids = list(dict.fromkeys(user_ids))
    if any(not isinstance(u, str) or not u for u in ids):
        raise ValueError("sealed recipients are non-empty user ids")
    plain = orjson.dumps(ids)
    plain += b" " * (-len(plain) % PAD_BYTES)
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + _aead(key).encrypt(nonce, plain, _associated(message_id))
    return f"{VERSION}." + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()


def unseal(text: str, key: bytes, message_id: str) -> list[str]:
    """The ids sealed for `message_id`; SealError if this is not such a list (the error
    says why in general terms and never carries the text)."""
    version, dot, body = text.partition(".")
    if not dot or version != VERSION:
        raise SealError("sealed recipients of an unknown version")
    if len(text) > MAX_SEALED_CHARS:
        raise SealError("sealed recipients too long")
    try:
        sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise SealError("sealed recipients are not base64url") from exc
    if len(sealed) < NONCE_BYTES + 16:
        raise SealError("sealed recipients too short")
    try:
        plain = _aead(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _associated(message_id))
    except InvalidTag as exc:
        raise SealError("sealed recipients do not open: another key, another message's, or altered") from exc
    try:
        ids = orjson.loads(plain)
    except orjson.JSONDecodeError as exc:
        raise SealError("sealed recipients hold no list") from exc
    if not isinstance(ids, list) or not all(isinstance(u, str) and u for u in ids):
        raise SealError("sealed recipients hold no list of user ids")
    return list(dict.fromkeys(ids))
