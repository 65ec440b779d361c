"""The services' public HTTP API, for setup and checks outside the timed windows.

Everything here goes through the API as a client would (tokens minted the way the gateway
expects them); nothing reads a service's database. The timed requests themselves are
pre-serialised and sent by `harness.loadgen`.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import orjson

from weft_shared.auth import issue_dev_token
from weft_shared.settings import AUDIENCE, DEV_ISSUER, PlatformSettings

LEARN_TIMEOUT = 90.0  # for the events service to learn a new community and its owner from the bus


class Tokens:
    """Dev tokens, minted the way the gateway expects them (HS256, the public dev key)."""

    def __init__(self) -> None:
        # Explicit values, so WEFT_* variables exported in this shell cannot change what is minted;
        # the services get a cleaned environment (WEFT_ENV=dev) and so the same defaults.
        self.settings = PlatformSettings(
            env="dev", auth_signing_key=None, auth_issuer=DEV_ISSUER, auth_audience=AUDIENCE
        )
        self._serial = 0

    def mint(self, sub: str) -> str:
        return issue_dev_token(self.settings, sub, email=f"{sub}@bench.example.org", name=f"Bench {sub}")

    def fresh_user(self, prefix: str) -> tuple[str, str]:
        """A new user id (`<prefix>-<serial>`, serials increase in minting order) and its token."""
        self._serial += 1
        sub = f"{prefix}-{self._serial}"
        return sub, self.mint(sub)


def bearer(token: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {token}")


class Api:
    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def call(self, method: str, url: str, token: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with self.session.request(method, url, json=body, headers=headers) as response:
            raw = await response.read()
            try:
                return response.status, (orjson.loads(raw) if raw else None)
            except orjson.JSONDecodeError:
                return response.status, raw[:200].decode(errors="replace")

    async def create_community(self, base_url: str, owner: str, name: str) -> str:
        """An open, public community without a code of conduct; the caller becomes its owner."""
        body = {"name": f"{name} {os.getpid()}", "purpose": "Measuring Weft's request path"}
        status, answer = await self.call("POST", f"{base_url}/v1/communities", owner, body)
        if status != 201:
            raise RuntimeError(f"POST /v1/communities answered {status}: {answer}")
        return str(answer["id"])

    async def member_count(self, base_url: str, community_id: str, token: str) -> int | None:
        status, answer = await self.call("GET", f"{base_url}/v1/communities/{community_id}", token)
        return answer.get("member_count") if status == 200 and isinstance(answer, dict) else None

    async def schedule(self, base_url: str, community_id: str, owner: str, title: str, seats: int) -> str:
        """An in-person occurrence a week ahead with `seats` seats, once the events service knows
        the community and its owner (it learns both from membership's messages, a moment later)."""
        body = event_body(title, seats)
        url = f"{base_url}/v1/communities/{community_id}/events"
        deadline = time.monotonic() + LEARN_TIMEOUT
        while True:
            status, answer = await self.call("POST", url, owner, body)
            if status == 201:
                return str(answer["id"])  # the (first) occurrence
            if status not in (403, 404) or time.monotonic() > deadline:
                raise RuntimeError(f"POST {url} answered {status}: {answer}")
            await asyncio.sleep(0.1)

    async def attendee_counts(self, base_url: str, event_id: str, owner: str) -> dict[str, int]:
        """In-person confirmed and waitlisted, as the API counts them (the host's view)."""
        status, answer = await self.call("GET", f"{base_url}/v1/events/{event_id}/attendees", owner)
        if status != 200:
            return {"status": status}
        return {
            "confirmed": int(answer["confirmed"]["in_person"]),
            "waitlisted": int(answer["waitlisted"]["in_person"]),
        }


def event_body(title: str, seats: int) -> dict[str, Any]:
    """An in-person occurrence a week ahead with `seats` seats."""
    starts = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    return {
        "title": title,
        "format": "in_person",
        "timezone": "Europe/London",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "venue": "Room 4, St Mary's",
        "capacity": {"in_person": seats},
    }
