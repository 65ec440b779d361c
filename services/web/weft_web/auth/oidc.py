"""OIDC sign-in: the authorization code flow with PKCE (S256), state and nonce; refresh.

The provider is the network's identity provider, the same issuer whose JWKS the API trusts:
the access token it issues is what the pages send to the gateway. The ID token is verified
here (signature by the provider's JWKS, issuer, audience = our client id, nonce, expiry).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode

import httpx
import jwt

from weft_web.sessions import Session
from weft_web.settings import WebSettings

_ID_TOKEN_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256", "EdDSA"]
# Providers' discovery documents and keys change rarely; keys are re-read on an unknown `kid`.
_DISCOVERY_TTL_SECONDS = 3600


class SignInFailed(Exception):
    """The provider refused, or its answer did not verify; the person is asked to try again."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    url: str
    state: str
    nonce: str
    verifier: str


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def basic_auth(client_id: str, secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-encoded before the Basic encoding."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode()


class OidcSignIn:
    def __init__(self, settings: WebSettings, *, http: httpx.AsyncClient | None = None) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        # `http`: how the provider is reached (tests of the checks give a provider of their own keys).
        self._http = http or httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        self._discovery: dict[str, Any] | None = None
        self._discovered_at = 0.0
        self._jwks: jwt.PyJWKSet | None = None
        self._lock = asyncio.Lock()

    async def close(self) -> None:
        await self._http.aclose()

    def redirect_uri(self, base_url: str) -> str:
        return f"{self.settings.public_url or base_url.rstrip('/')}/sign-in/callback"

    async def discovery(self) -> dict[str, Any]:
        async with self._lock:
            if self._discovery is None or time.monotonic() - self._discovered_at > _DISCOVERY_TTL_SECONDS:
                try:
                    response = await self._http.get(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
                    response.raise_for_status()
                    document = response.json()
                except (httpx.HTTPError, ValueError) as exc:
                    raise SignInFailed(f"the provider's discovery document did not load: {type(exc).__name__}") from exc
                if document.get("issuer") != self.issuer:
                    raise SignInFailed("the provider's discovery document names another issuer")
                self._discovery = document
                self._discovered_at = time.monotonic()
                self._jwks = None
            return self._discovery

    async def authorization_request(self, base_url: str) -> AuthorizationRequest:
        document = await self.discovery()
        state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        verifier, challenge = pkce_pair()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri(base_url),
                "scope": self.settings.oidc_scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return AuthorizationRequest(f"{document['authorization_endpoint']}?{query}", state, nonce, verifier)

    async def check_response_issuer(self, iss: str | None) -> None:
        """RFC 9207: the callback names the provider that sent it (a mix-up attack names another).

        A provider that says it sends `iss` must send it; one that does not may leave it out.
        """
        document = await self.discovery()
        if iss is None:
            if document.get("authorization_response_iss_parameter_supported"):
                raise SignInFailed("the callback has no iss, though the provider sends one")
        elif iss != self.issuer:
            raise SignInFailed("the callback names another issuer")

    async def exchange(self, *, code: str, verifier: str, nonce: str, base_url: str) -> Session:
        tokens = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.redirect_uri(base_url),
                "code_verifier": verifier,
            }
        )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("the provider sent no ID token")
        claims = await self._verify_id_token(id_token, nonce=nonce)
        return self._session(tokens, claims, id_token=id_token)

    async def refresh(self, session: Session) -> Session | None:
        if not session.refresh_token:
            return None
        try:
            tokens = await self._token_request({"grant_type": "refresh_token", "refresh_token": session.refresh_token})
        except SignInFailed:
            return None
        claims = {"sub": session.sub, "name": session.name, "email": session.email}
        id_token = tokens.get("id_token")
        if isinstance(id_token, str):
            try:
                fresh = await self._verify_id_token(id_token, nonce=None)
            except SignInFailed:
                return None
            if fresh.get("sub") != session.sub:
                return None
            claims.update(fresh)
        return self._session(
            {**tokens, "refresh_token": tokens.get("refresh_token") or session.refresh_token},
            claims,
            id_token=id_token if isinstance(id_token, str) else session.id_token,
        )

    async def end_session_url(self, session: Session, *, base_url: str) -> str | None:
        document = await self.discovery()
        endpoint = document.get("end_session_endpoint")
        if not endpoint:
            return None
        params = {
            "post_logout_redirect_uri": f"{self.settings.public_url or base_url.rstrip('/')}/",
            "client_id": self.client_id,
        }
        if session.id_token:
            params["id_token_hint"] = session.id_token
        return f"{endpoint}?{urlencode(params)}"

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        document = await self.discovery()
        headers = {}
        if self.settings.oidc_client_secret:  # client_secret_basic
            headers["Authorization"] = basic_auth(self.client_id, self.settings.oidc_client_secret)
        else:  # a public client: PKCE is its proof
            form = {**form, "client_id": self.client_id}
        try:
            response = await self._http.post(document["token_endpoint"], data=form, headers=headers)
        except httpx.HTTPError as exc:
            raise SignInFailed(f"the provider did not answer: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise SignInFailed(f"the provider refused the token request ({response.status_code})")
        tokens: dict[str, Any] = response.json()
        if not isinstance(tokens.get("access_token"), str):
            raise SignInFailed("the provider sent no access token")
        return tokens

    async def _keys(self, *, reload: bool = False) -> jwt.PyJWKSet:
        if self._jwks is None or reload:
            document = await self.discovery()
            try:
                response = await self._http.get(document["jwks_uri"])
                response.raise_for_status()
                self._jwks = jwt.PyJWKSet.from_dict(response.json())
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                raise SignInFailed(f"the provider's keys did not load: {type(exc).__name__}") from exc
        return self._jwks

    async def _verify_id_token(self, id_token: str, *, nonce: str | None) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
            keys = await self._keys()
            key = _find_key(keys, kid)
            if key is None:  # the provider rotated its keys
                key = _find_key(await self._keys(reload=True), kid)
            if key is None:
                raise SignInFailed("the ID token is signed by a key the provider does not publish")
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=_ID_TOKEN_ALGORITHMS,
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise SignInFailed(f"the ID token did not verify: {exc}") from exc
        if nonce is not None and not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInFailed("the ID token's nonce is not the one this sign-in sent")
        return claims

    def _session(self, tokens: dict[str, Any], claims: dict[str, Any], *, id_token: str | None) -> Session:
        expires_in = tokens.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 300.0
        name = claims.get("name")
        email = claims.get("email")
        return Session(
            sub=str(claims["sub"]),
            name=name if isinstance(name, str) else None,
            email=email if isinstance(email, str) else None,
            access_token=tokens["access_token"],
            access_expires_at=datetime.now(UTC) + timedelta(seconds=lifetime),
            refresh_token=tokens.get("refresh_token") if isinstance(tokens.get("refresh_token"), str) else None,
            id_token=id_token,
            provider="oidc",
        )


def _find_key(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK | None:
    for key in keys.keys:
        if kid is None or key.key_id == kid:
            return key
    return None
