"""Waiting for what arrives asynchronously (read models fed by the bus, the relay's crash path)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(check: Callable[[], Awaitable[Any]], *, timeout: float = 20.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy, which is returned; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
