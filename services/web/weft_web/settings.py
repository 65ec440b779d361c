"""Web app settings (prefix WEFT_WEB_): where the gateway is, sign-in, cookies, the network's look."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from weft_shared.settings import ServiceSettings

# Public on purpose: it signs CSRF tokens and flash cookies, so it only works in dev.
DEV_SECRET_KEY = "weft-dev-web-secret-key--never-use-outside-dev"  # noqa: S105
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\Z")


class WebSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="WEFT_WEB_", extra="ignore", populate_by_name=True)

    http_port: int = Field(8090, validation_alias=AliasChoices("WEFT_WEB_HTTP_PORT"))
    # The gateway's base URL as this process reaches it (scheme://host:port, no path).
    gateway_url: str = "http://127.0.0.1:8080"
    # The address people's browsers use for this app; OIDC redirects come back to it.
    public_url: str | None = None
    # This app's own database: sessions only.
    database: str = "weft_web"

    # Signs CSRF tokens and flash cookies; at least 32 characters outside dev.
    secret_key: str | None = None
    session_hours: float = Field(12.0, gt=0, le=24 * 30)
    # None: Secure cookies everywhere but dev (whose http://127.0.0.1 would drop them).
    cookie_secure: bool | None = None

    # OIDC sign-in (authorization code + PKCE). Unset in dev: the dev sign-in page instead.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    # Optional: a confidential client also authenticates at the token endpoint.
    oidc_client_secret: str | None = None
    oidc_scopes: str = "openid profile email offline_access"
    # Only for the OIDC test provider on 127.0.0.1: its issuer is plain http.
    oidc_allow_http: bool = False

    # The network's name, logo and colours.
    network_name: str = "Weft"
    network_tagline: str = "Communities of practice"
    logo_path: Path | None = None
    colour_primary: str = "#1d4f91"
    colour_accent: str = "#b3541e"

    # The language of the pages (a folder under weft_web/locale, or the source strings).
    locale: str = "en"
    # Longest wait for one gateway call.
    gateway_timeout_seconds: float = Field(10.0, gt=0)

    @field_validator("gateway_url", "public_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    # The issuer is compared exactly with the provider's discovery document, the ID token's `iss`
    # and the callback's (some providers' end in "/"): it is kept as written, as the API keeps its.

    @field_validator("colour_primary", "colour_accent")
    @classmethod
    def _hex_colour(cls, value: str) -> str:
        if not _COLOUR.match(value):
            raise ValueError("must be a #rrggbb colour")
        return value

    @model_validator(mode="after")
    def _refuse_dev_secrets_outside_dev(self) -> WebSettings:
        dev = self.platform.env == "dev"
        if self.secret_key is None and dev:
            self.secret_key = DEV_SECRET_KEY
        if not dev:
            if self.secret_key == DEV_SECRET_KEY:
                raise ValueError("WEFT_WEB_SECRET_KEY is the public dev key; it is refused unless WEFT_ENV=dev")
            if not self.secret_key or len(self.secret_key) < 32:
                raise ValueError("WEFT_WEB_SECRET_KEY must be set to at least 32 random characters")
            if not self.oidc_issuer or not self.oidc_client_id:
                raise ValueError("set WEFT_WEB_OIDC_ISSUER and WEFT_WEB_OIDC_CLIENT_ID (sign-in) outside dev")
            if not self.public_url:
                raise ValueError("set WEFT_WEB_PUBLIC_URL (the address browsers use) outside dev")
        if self.oidc_issuer and not self.oidc_issuer.startswith("https://") and not self.oidc_allow_http:
            raise ValueError("WEFT_WEB_OIDC_ISSUER must be https")
        return self

    @property
    def dev_sign_in(self) -> bool:
        """The dev sign-in page (pick or create a person, dev tokens) exists only in dev."""
        return self.platform.env == "dev"

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.platform.env != "dev"

    @property
    def key(self) -> bytes:
        assert self.secret_key is not None  # set by the validator
        return self.secret_key.encode()
