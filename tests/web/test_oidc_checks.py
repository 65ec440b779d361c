"""The web app's OIDC checks that a well-behaved provider never trips: ID tokens signed by keys
made here (a wrong nonce, audience, issuer, key, algorithm, an expired one), and the settings
that refuse to start outside dev. The whole flow runs against a real provider in test_oidc.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import RSAAlgorithm
from pydantic import ValidationError

from weft_shared.settings import PlatformSettings
from weft_web.auth.oidc import OidcSignIn, SignInFailed
from weft_web.security import cookie_header
from weft_web.settings import DEV_SECRET_KEY, WebSettings

ISSUER = "https://idp.example.org"
CLIENT_ID = "weft-web"
NONCE = "the-nonce-this-sign-in-sent"


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


PROVIDER_KEY = _rsa_key()
STRANGER_KEY = _rsa_key()


def _jwks() -> dict[str, Any]:
    public = json.loads(RSAAlgorithm.to_jwk(PROVIDER_KEY.public_key()))
    return {"keys": [{**public, "kid": "provider-key", "use": "sig", "alg": "RS256"}]}


def _provider(request: httpx.Request) -> httpx.Response:
    """The provider's two public documents, as a provider serves them."""
    if request.url.path == "/.well-known/openid-configuration":
        return httpx.Response(
            200,
            json={
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/auth",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/jwks",
                "authorization_response_iss_parameter_supported": True,
            },
        )
    if request.url.path == "/jwks":
        return httpx.Response(200, json=_jwks())
    return httpx.Response(404)


def _settings(**overrides: Any) -> WebSettings:
    return WebSettings(
        platform=PlatformSettings(env="dev"),
        oidc_issuer=ISSUER,
        oidc_client_id=CLIENT_ID,
        public_url="https://weft.example.org",
        **overrides,
    )


@pytest.fixture
async def oidc() -> AsyncIterator[OidcSignIn]:
    signer = OidcSignIn(_settings(), http=httpx.AsyncClient(transport=httpx.MockTransport(_provider)))
    try:
        yield signer
    finally:
        await signer.close()


def _id_token(key: rsa.RSAPrivateKey = PROVIDER_KEY, *, kid: str = "provider-key", **claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "ana", "iat": now, "exp": now + 300, "nonce": NONCE, **claims}
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


async def test_an_id_token_from_the_provider_for_this_sign_in_verifies(oidc: OidcSignIn) -> None:
    claims = await oidc._verify_id_token(_id_token(name="Ana"), nonce=NONCE)
    assert claims["sub"] == "ana" and claims["name"] == "Ana"


# Tokens are made when the test runs, not when it is collected: a run can last longer than
# their five minutes.
@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda: _id_token(nonce="another-sign-ins-nonce"), "nonce"),
        (lambda: _id_token(nonce=None), "nonce"),
        (lambda: _id_token(aud="another-client"), "(?i)audience"),
        (lambda: _id_token(iss="https://idp.evil.example"), "(?i)issuer"),
        (lambda: _id_token(exp=int(time.time()) - 600, iat=int(time.time()) - 900), "(?i)expired"),
        (lambda: _id_token(sub=None), "(?i)sub"),
        (lambda: _id_token(STRANGER_KEY), "(?i)signature"),
        (lambda: _id_token(STRANGER_KEY, kid="unknown-key"), "does not publish"),
    ],
    ids=["other-nonce", "no-nonce", "audience", "issuer", "expired", "no-sub", "stranger-key", "unknown-kid"],
)
async def test_an_id_token_that_is_not_for_this_sign_in_is_refused(
    oidc: OidcSignIn, make: Callable[[], str], why: str
) -> None:
    with pytest.raises(SignInFailed, match=why):
        await oidc._verify_id_token(make(), nonce=NONCE)


async def test_an_unsigned_or_symmetric_id_token_is_refused(oidc: OidcSignIn) -> None:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT_ID, "sub": "ana", "iat": now, "exp": now + 300, "nonce": NONCE}
    unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "provider-key"})
    # HS256 keyed with the public key's PEM: the classic algorithm-confusion forgery (made by
    # hand: PyJWT itself refuses to sign with a key that looks like one).
    pem = PROVIDER_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = b".".join(
        _b64(json.dumps(part).encode()) for part in ({"alg": "HS256", "kid": "provider-key"}, claims)
    )
    confused = (signing_input + b"." + _b64(hmac.new(pem, signing_input, hashlib.sha256).digest())).decode()
    for token in (unsigned, confused):
        with pytest.raises(SignInFailed):
            await oidc._verify_id_token(token, nonce=NONCE)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


async def test_the_callback_must_name_this_provider(oidc: OidcSignIn) -> None:
    await oidc.check_response_issuer(ISSUER)
    for iss in (None, "https://idp.evil.example"):
        with pytest.raises(SignInFailed):
            await oidc.check_response_issuer(iss)


async def test_a_provider_that_does_not_answer_is_a_failed_sign_in_not_a_crash() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    signer = OidcSignIn(_settings(), http=httpx.AsyncClient(transport=httpx.MockTransport(down)))
    try:
        with pytest.raises(SignInFailed):
            await signer.check_response_issuer(ISSUER)
    finally:
        await signer.close()


# --- settings ---------------------------------------------------------------------------------

PRODUCTION = {"env": "production", "auth_jwks_url": f"{ISSUER}/jwks", "auth_issuer": ISSUER}
GOOD_SECRET = "k" * 40


def _production(**web: Any) -> WebSettings:
    values: dict[str, Any] = {
        "secret_key": GOOD_SECRET,
        "oidc_issuer": ISSUER,
        "oidc_client_id": CLIENT_ID,
        "public_url": "https://weft.example.org",
        **web,
    }
    return WebSettings(platform=PlatformSettings(**PRODUCTION), **values)


def test_outside_dev_a_full_configuration_starts_with_secure_cookies_and_no_dev_sign_in() -> None:
    settings = _production()
    assert settings.secure_cookies and not settings.dev_sign_in
    assert "Secure" in cookie_header("weft_session", "x" * 43, secure=settings.secure_cookies)


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ({"secret_key": None}, "WEFT_WEB_SECRET_KEY"),
        ({"secret_key": "too-short"}, "WEFT_WEB_SECRET_KEY"),
        ({"secret_key": DEV_SECRET_KEY}, "public dev key"),
        ({"oidc_issuer": None}, "WEFT_WEB_OIDC_ISSUER"),
        ({"oidc_client_id": None}, "WEFT_WEB_OIDC_CLIENT_ID"),
        ({"public_url": None}, "WEFT_WEB_PUBLIC_URL"),
        ({"oidc_issuer": "http://idp.example.org"}, "must be https"),
    ],
)
def test_outside_dev_the_web_app_refuses_to_start_without(missing: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _production(**missing)


def test_in_dev_cookies_are_not_secure_unless_asked_and_http_issuers_need_allow_http() -> None:
    dev = WebSettings(platform=PlatformSettings(env="dev"))
    assert not dev.secure_cookies and dev.dev_sign_in
    assert WebSettings(platform=PlatformSettings(env="dev"), cookie_secure=True).secure_cookies
    assert "Secure" not in cookie_header("weft_session", "x" * 43, secure=dev.secure_cookies)
    cookie = cookie_header("weft_session", "x" * 43, secure=True)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with pytest.raises(ValidationError, match="must be https"):
        WebSettings(platform=PlatformSettings(env="dev"), oidc_issuer="http://127.0.0.1:4000", oidc_client_id="w")
    allowed = WebSettings(
        platform=PlatformSettings(env="dev"),
        oidc_issuer="http://127.0.0.1:4000",
        oidc_client_id="w",
        oidc_allow_http=True,
    )
    assert allowed.oidc_issuer == "http://127.0.0.1:4000"
