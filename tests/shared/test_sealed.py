"""Sealed recipients: only the notifications service, with the network's key, opens
them, and only on the message they were sealed for."""

from __future__ import annotations

import base64
import secrets

import pytest
from pydantic import ValidationError

from weft_shared.contracts.envelope import new_message_id
from weft_shared.messaging.sealed import PAD_BYTES, SealError, parse_key, seal, unseal
from weft_shared.settings import DEV_SEALING_KEY, PlatformSettings

KEY = secrets.token_bytes(32)


def test_a_sealed_list_opens_on_its_message_with_its_key() -> None:
    message_id = new_message_id()
    sealed = seal(["ana-1", "ben-2", "ana-1", "cai-3"], KEY, message_id)
    assert sealed.startswith("v1.")
    assert unseal(sealed, KEY, message_id) == ["ana-1", "ben-2", "cai-3"]  # each once, in order
    assert b"ana-1" not in base64.urlsafe_b64decode(sealed[3:] + "==")
    assert unseal(seal([], KEY, message_id), KEY, message_id) == []


def test_two_seals_of_one_list_differ() -> None:
    message_id = new_message_id()
    assert seal(["ana"], KEY, message_id) != seal(["ana"], KEY, message_id)  # a fresh nonce each time


def test_an_altered_list_is_refused() -> None:
    message_id = new_message_id()
    sealed = seal(["ana", "ben"], KEY, message_id)
    raw = bytearray(base64.urlsafe_b64decode(sealed[3:] + "=" * (-len(sealed[3:]) % 4)))
    for position in (0, 20, len(raw) - 1):  # the nonce, the ciphertext, the tag
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        text = "v1." + base64.urlsafe_b64encode(bytes(flipped)).rstrip(b"=").decode()
        with pytest.raises(SealError, match="do not open"):
            unseal(text, KEY, message_id)
    with pytest.raises(SealError, match="too short"):
        unseal(sealed[:23], KEY, message_id)
    with pytest.raises(SealError, match="unknown version"):
        unseal("v2" + sealed[2:], KEY, message_id)
    with pytest.raises(SealError, match="unknown version"):
        unseal("ana,ben", KEY, message_id)
    with pytest.raises(SealError, match="not base64url"):
        unseal("v1.a", KEY, message_id)


def test_a_list_moved_to_another_message_does_not_open() -> None:
    sealed = seal(["ana"], KEY, new_message_id())
    with pytest.raises(SealError, match="another message's"):
        unseal(sealed, KEY, new_message_id())


def test_another_key_does_not_open_it() -> None:
    message_id = new_message_id()
    sealed = seal(["ana"], KEY, message_id)
    with pytest.raises(SealError, match="another key"):
        unseal(sealed, secrets.token_bytes(32), message_id)


def test_the_length_says_only_how_many_blocks_of_ids() -> None:
    """Padded to 1 KiB blocks: room for 16 ids of 64 characters, 46 of these."""
    message_id = new_message_id()
    ids = [f"user-{n:04}-{secrets.token_hex(4)}" for n in range(60)]  # 19 characters each
    one, fifteen, forty, sixty = (seal(ids[:n], KEY, message_id) for n in (1, 15, 40, 60))
    assert len(one) == len(fifteen) == len(forty) == len(seal([], KEY, message_id))
    assert len(sixty) > len(forty)
    # nonce + padded plaintext + tag, base64url without padding
    assert len(base64.urlsafe_b64decode(one[3:] + "=" * (-len(one[3:]) % 4))) == 12 + PAD_BYTES + 16


def test_the_key_setting() -> None:
    hex_key, b64_key = secrets.token_hex(32), base64.b64encode(secrets.token_bytes(32)).decode()
    assert len(parse_key(hex_key)) == 32 and len(parse_key(b64_key)) == 32
    assert len(parse_key(secrets.token_urlsafe(48))) == 48
    for short in ("s" * 40, secrets.token_hex(16), base64.b64encode(b"x" * 31).decode(), "not a key!"):
        with pytest.raises(ValueError, match="at least 32 random bytes"):
            parse_key(short)

    production = {"env": "production", "auth_signing_key": "s" * 32}
    with pytest.raises(ValidationError, match="public dev key"):
        PlatformSettings(**production, message_sealing_key=DEV_SEALING_KEY)
    with pytest.raises(ValidationError, match="at least 32 random bytes"):
        PlatformSettings(**production, message_sealing_key="short")
    with pytest.raises(ValueError, match="WEFT_MESSAGE_SEALING_KEY is not set"):
        PlatformSettings(**production).sealing_key()
    assert PlatformSettings(**production, message_sealing_key=hex_key).sealing_key() == bytes.fromhex(hex_key)
    assert PlatformSettings(env="dev").message_sealing_key == DEV_SEALING_KEY
