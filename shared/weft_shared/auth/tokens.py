"""Bearer token verification (OIDC JWKS or a shared HS256 key) and dev token minting."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import jwt
import jwt.types

from weft_shared.errors import Unauthorized
from weft_shared.settings import PlatformSettings

_ASYMMETRIC = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
# RFC 7519 NumericDate claims. PyJWT checks them with int(), which takes "9999999999" and True.
_TIME_CLAIMS = ("exp", "nbf", "iat")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as the token says."""

    sub: str
    email: str | None
    name: str | None
    expires_at: float
    # Every claim of the verified token, for rules about claims this module doesn't name
    # (network admins: auth/admins.py). Read only.
    claims: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


class TokenVerifier:
    """Verifies bearer tokens; caches good ones until they expire (hot path)."""

    def __init__(self, settings: PlatformSettings, *, cache_size: int = 10_000) -> None:
        self._issuer = settings.auth_issuer
        self._audience = settings.auth_audience
        self._key = settings.auth_signing_key
        self._jwks = jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True) if settings.auth_jwks_url else None
        self._cache: dict[str, Principal] = {}
        self._cache_size = cache_size

    async def verify(self, token: str) -> Principal:
        cached = self._cache.get(token)
        if cached is not None:
            if cached.expires_at > time.time():
                return cached
            del self._cache[token]
        claims = await self._decode(token)
        _require_numeric_dates(claims)
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 200:
            raise Unauthorized("token has no usable 'sub' claim")
        email = claims.get("email")
        name = claims.get("name")
        principal = Principal(
            sub=sub,
            email=email if isinstance(email, str) else None,
            name=name if isinstance(name, str) else None,
            expires_at=float(claims["exp"]),
            claims=MappingProxyType(claims),
        )
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[token] = principal
        return principal

    async def _decode(self, token: str) -> dict[str, Any]:
        options: jwt.types.Options = {"require": ["exp", "sub"]}
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") == "HS256" and self._key:
                return jwt.decode(
                    token,
                    self._key,
                    algorithms=["HS256"],
                    audience=self._audience,
                    issuer=self._issuer,
                    options=options,
                )
            if self._jwks is not None:
                # PyJWKClient does blocking HTTP on a key miss; keep it off the event loop.
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                return jwt.decode(
                    token,
                    signing_key.key,
                    algorithms=_ASYMMETRIC,
                    audience=self._audience,
                    issuer=self._issuer,
                    options=options,
                )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token has expired") from exc
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthorized("token is invalid") from exc
        raise Unauthorized("token algorithm is not accepted")


def _require_numeric_dates(claims: dict[str, Any]) -> None:
    for name in _TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        # bool is an int in Python; JSON's true is not a date.
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Unauthorized(f"token claim '{name}' must be a number of seconds (a NumericDate)")


def issue_dev_token(
    settings: PlatformSettings,
    sub: str,
    *,
    email: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 12 * 3600,
    claims: Mapping[str, Any] | None = None,
) -> str:
    """Mint an HS256 token the dev gateway accepts (`weft token`, tests); `claims` adds more (e.g. `roles`)."""
    if not settings.auth_signing_key:
        raise RuntimeError("no signing key configured")
    now = int(time.time())
    token_claims: dict[str, Any] = {
        **(claims or {}),
        "sub": sub,
        "iss": settings.auth_issuer,
        "aud": settings.auth_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if email:
        token_claims["email"] = email
    if name:
        token_claims["name"] = name
    return jwt.encode(token_claims, settings.auth_signing_key, algorithm="HS256")
