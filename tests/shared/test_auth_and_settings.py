"""Token verification (dev key and OIDC JWKS) and the settings' safety rules."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from jwt.algorithms import OKPAlgorithm
from pydantic import ValidationError

from weft_shared.auth import TokenVerifier, issue_dev_token
from weft_shared.errors import Unauthorized
from weft_shared.settings import DEV_SIGNING_KEY, PlatformSettings


def test_the_dev_key_is_refused_outside_dev() -> None:
    with pytest.raises(ValidationError, match="public dev key"):
        PlatformSettings(env="production", auth_signing_key=DEV_SIGNING_KEY)
    with pytest.raises(ValidationError, match="no token verification"):
        PlatformSettings(env="production")
    with pytest.raises(ValidationError, match="at least 32"):
        PlatformSettings(env="production", auth_signing_key="short")
    assert PlatformSettings(env="dev").auth_signing_key == DEV_SIGNING_KEY
    assert PlatformSettings(env="production", auth_jwks_url="https://idp.example.org/jwks").auth_signing_key is None


async def test_dev_tokens_verify_and_tampering_does_not() -> None:
    settings = PlatformSettings(env="dev")
    verifier = TokenVerifier(settings)
    token = issue_dev_token(settings, "ana", email="ana@example.org", name="Ana")
    principal = await verifier.verify(token)
    assert (principal.sub, principal.email, principal.name) == ("ana", "ana@example.org", "Ana")
    other_key = PlatformSettings(env="production", auth_signing_key="x" * 40)
    with pytest.raises(Unauthorized):
        await TokenVerifier(other_key).verify(token)
    wrong_audience = jwt.encode(
        {"sub": "ana", "aud": "elsewhere", "iss": settings.auth_issuer, "exp": time.time() + 60},
        DEV_SIGNING_KEY,
        algorithm="HS256",
    )
    with pytest.raises(Unauthorized):
        await verifier.verify(wrong_audience)
    unsigned = jwt.encode({"sub": "ana", "exp": time.time() + 60}, None, algorithm="none")
    with pytest.raises(Unauthorized):
        await verifier.verify(unsigned)


@pytest.fixture
def jwks_server() -> Iterator[tuple[str, ed25519.Ed25519PrivateKey]]:
    """A local OIDC-style JWKS endpoint (the identity provider is outside the product)."""
    key = ed25519.Ed25519PrivateKey.generate()
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "EdDSA"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    finally:
        server.shutdown()


async def test_oidc_tokens_verify_against_the_providers_jwks(
    jwks_server: tuple[str, ed25519.Ed25519PrivateKey],
) -> None:
    url, key = jwks_server
    settings = PlatformSettings(env="production", auth_jwks_url=url, auth_issuer="https://idp.example.org/")
    verifier = TokenVerifier(settings)
    claims = {"sub": "oidc-user", "aud": "weft", "iss": "https://idp.example.org/", "exp": time.time() + 60}
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": "k1"})
    assert (await verifier.verify(token)).sub == "oidc-user"
    stranger = ed25519.Ed25519PrivateKey.generate()
    with pytest.raises(Unauthorized):
        await verifier.verify(jwt.encode(claims, stranger, algorithm="EdDSA", headers={"kid": "k1"}))
    with pytest.raises(Unauthorized):
        await verifier.verify(
            jwt.encode({**claims, "iss": "https://evil.example.org/"}, key, algorithm="EdDSA", headers={"kid": "k1"})
        )


@pytest.mark.parametrize(
    "claims",
    [{"exp": "9999999999"}, {"nbf": "0"}, {"iat": "1700000000"}, {"iat": True}, {"nbf": False}, {"exp": [1]}],
)
async def test_time_claims_must_be_numbers(claims: dict[str, object]) -> None:
    # Signed with the right key: only the claim's type is wrong. PyJWT alone takes int("9999999999").
    settings = PlatformSettings(env="dev")
    base = {"sub": "ana", "iss": settings.auth_issuer, "aud": settings.auth_audience, "exp": int(time.time()) + 60}
    forged = jwt.encode({**base, **claims}, DEV_SIGNING_KEY, algorithm="HS256")
    with pytest.raises(Unauthorized) as refused:
        await TokenVerifier(settings).verify(forged)
    assert refused.value.status == 401
    fractional = jwt.encode({**base, "exp": time.time() + 60.5}, DEV_SIGNING_KEY, algorithm="HS256")
    assert (await TokenVerifier(settings).verify(fractional)).sub == "ana"
