"""Server-side sessions: the cookie carries a random id, the tokens stay here.

The database keeps only a hash of the id, so reading the collection does not give anyone a
working cookie. Documents expire by a TTL index; sign-out deletes at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

SESSION_COOKIE = "weft_session"


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def _hashed(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Session:
    """Who is signed in on this browser, and the token the pages call the API with."""

    sub: str
    name: str | None
    email: str | None
    access_token: str
    access_expires_at: datetime
    refresh_token: str | None
    id_token: str | None
    provider: str  # "oidc" or "dev"

    @property
    def display_name(self) -> str:
        return self.name or self.email or self.sub


class SessionStore:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], *, lifetime: timedelta) -> None:
        self._sessions: AsyncCollection[dict[str, Any]] = db["sessions"]
        self._lifetime = lifetime

    async def create_indexes(self) -> None:
        await self._sessions.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)
        await self._sessions.create_index([("sub", ASCENDING)])

    async def start(self, session: Session) -> str:
        """Store a new session; returns the id for the cookie (a fresh one at every sign-in)."""
        session_id = new_session_id()
        now = datetime.now(UTC)
        await self._sessions.insert_one(
            {"_id": _hashed(session_id), **_fields(session), "created_at": now, "expires_at": now + self._lifetime}
        )
        return session_id

    async def find(self, session_id: str) -> Session | None:
        doc = await self._sessions.find_one({"_id": _hashed(session_id)})
        # The TTL monitor runs once a minute: an expired session must not live until it does.
        if doc is None or doc["expires_at"] <= datetime.now(UTC):
            return None
        return Session(
            sub=doc["sub"],
            name=doc.get("name"),
            email=doc.get("email"),
            access_token=doc["access_token"],
            access_expires_at=doc["access_expires_at"],
            refresh_token=doc.get("refresh_token"),
            id_token=doc.get("id_token"),
            provider=doc["provider"],
        )

    async def replace_tokens(self, session_id: str, session: Session) -> None:
        """After a refresh: the same session, new tokens."""
        await self._sessions.update_one({"_id": _hashed(session_id)}, {"$set": _fields(session)})

    async def end(self, session_id: str) -> None:
        await self._sessions.delete_one({"_id": _hashed(session_id)})

    async def end_all_of(self, sub: str) -> None:
        """Every browser's session of one person (after they are erased: their name goes too)."""
        await self._sessions.delete_many({"sub": sub})


def _fields(session: Session) -> dict[str, Any]:
    return {
        "sub": session.sub,
        "name": session.name,
        "email": session.email,
        "access_token": session.access_token,
        "access_expires_at": session.access_expires_at,
        "refresh_token": session.refresh_token,
        "id_token": session.id_token,
        "provider": session.provider,
    }


class SignInAttempts:
    """An OIDC sign-in between leaving for the provider and coming back: state, nonce, PKCE verifier.

    Kept here, not in a cookie, so the verifier never leaves the server; bound to the browser
    that started it and good for ten minutes, once.
    """

    LIFETIME = timedelta(minutes=10)

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self._attempts: AsyncCollection[dict[str, Any]] = db["sign_in_attempts"]

    async def create_indexes(self) -> None:
        await self._attempts.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)

    async def begin(self, state: str, *, browser: str, nonce: str, verifier: str, next_path: str) -> None:
        await self._attempts.insert_one(
            {
                "_id": _hashed(state),
                "browser": _hashed(browser),
                "nonce": nonce,
                "verifier": verifier,
                "next": next_path,
                "expires_at": datetime.now(UTC) + self.LIFETIME,
            }
        )

    async def take(self, state: str, *, browser: str) -> dict[str, Any] | None:
        """The attempt, removed so a replayed callback finds nothing; None if not this browser's.

        Another browser's try leaves the attempt alone: someone who saw the callback URL cannot
        spoil the sign-in of the person it belongs to.
        """
        doc = await self._attempts.find_one_and_delete({"_id": _hashed(state), "browser": _hashed(browser)})
        if doc is None or doc["expires_at"] <= datetime.now(UTC):
            return None
        return doc
