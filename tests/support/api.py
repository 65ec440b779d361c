"""Talking to a Weft HTTP API as a client would: tokens, people, communities."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from weft_shared.auth import issue_dev_token
from weft_shared.settings import PlatformSettings

_DEV = PlatformSettings(env="dev")


@dataclass(frozen=True)
class Person:
    user_id: str
    email: str
    name: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(self)}"}


def token_for(person: Person, ttl_seconds: int = 3600) -> str:
    return issue_dev_token(
        _DEV,
        person.user_id,
        email=person.email,
        name=person.name,
        ttl_seconds=ttl_seconds,
    )


def new_person(label: str = "person") -> Person:
    """A fresh identity per test, so tests sharing one database never collide."""
    user_id = f"{label}-{secrets.token_hex(4)}"
    return Person(user_id=user_id, email=f"{user_id}@example.org", name=label.title())


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert an RFC 9457 problem response with this status; return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"], body
    return body


def problem_fields(response: httpx.Response, status: int) -> set[str]:
    return {e["field"] for e in problem(response, status).get("errors", [])}


async def create_community(client: httpx.AsyncClient, owner: Person, **fields: Any) -> dict[str, Any]:
    body = {
        "name": f"Community {secrets.token_hex(3)}",
        "purpose": "Share good practice",
        **fields,
    }
    response = await client.post("/v1/communities", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def join(client: httpx.AsyncClient, community_id: str, person: Person, **body: Any) -> httpx.Response:
    return await client.post(
        f"/v1/communities/{community_id}/members",
        json=body or None,
        headers=person.headers,
    )
