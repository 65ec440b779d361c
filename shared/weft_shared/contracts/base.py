"""Message payload base and the registry of every message type on the bus."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

MESSAGE_TYPE_PREFIX = "org.weft."


class MessagePayload(BaseModel):
    """The `data` of one kind of bus message.

    `message_type` is versioned (`org.weft.member.joined.v1`): within a version only
    additive changes are allowed, so consumers ignore fields they don't know.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    message_type: ClassVar[str]
    description: ClassVar[str] = ""

    @classmethod
    def subject_tokens(cls) -> str:
        """`org.weft.member.joined.v1` -> `member.joined.v1` (three subject tokens)."""
        return cls.message_type.removeprefix(MESSAGE_TYPE_PREFIX)


MESSAGE_TYPES: dict[str, type[MessagePayload]] = {}


def message(message_type: str, description: str):  # type: ignore[no-untyped-def]
    """Class decorator: name a payload model and register it."""
    if not message_type.startswith(MESSAGE_TYPE_PREFIX) or message_type.count(".") != 4:
        raise ValueError(f"message type must look like org.weft.<entity>.<action>.v<N>: {message_type}")

    def register(cls: type[MessagePayload]) -> type[MessagePayload]:
        if message_type in MESSAGE_TYPES:
            raise ValueError(f"duplicate message type {message_type}")
        cls.message_type = message_type
        cls.description = description
        MESSAGE_TYPES[message_type] = cls
        return cls

    return register
