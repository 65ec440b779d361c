"""What every page route can reach: settings, templates, the gateway, sessions, sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pymongo.asynchronous.database import AsyncDatabase

from weft_web.gateway import Gateway
from weft_web.rendering import Pages
from weft_web.sessions import Session, SessionStore
from weft_web.settings import WebSettings


class TokenRefresher(Protocol):
    async def refresh(self, session: Session) -> Session | None:
        """New tokens for a session whose access token is (nearly) spent; None: sign in again."""
        ...


@dataclass
class WebContext:
    settings: WebSettings
    pages: Pages
    gateway: Gateway
    sessions: SessionStore
    # The web app's own database (sessions, sign-in attempts, the code-of-conduct texts it has shown).
    db: AsyncDatabase[dict[str, Any]]
    # Set when OIDC sign-in is configured (auth/oidc.py).
    refresher: TokenRefresher | None = None
