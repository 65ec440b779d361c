"""A real OpenID provider for sign-in tests: panva's oidc-provider (tools/oidc-provider), by PID.

`npm ci` in tools/oidc-provider installs it (.ci/run does); nothing downloads at test time.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import httpx

from weft_cli.procs import LineSink, ManagedProcess, free_port, wait_for_http

PROVIDER_DIR = Path(__file__).resolve().parents[2] / "tools" / "oidc-provider"


@dataclass(frozen=True)
class OidcAccount:
    """A person the provider knows; they type their `sub` as the login on its login page."""

    sub: str
    name: str
    email: str


@dataclass
class OidcProvider:
    issuer: str
    client_id: str
    accounts: Sequence[OidcAccount]
    process: ManagedProcess

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    def stop(self) -> None:
        self.process.stop()


def start_oidc_provider(
    *,
    client_id: str,
    redirect_uri: str,
    post_logout_uri: str,
    accounts: Sequence[OidcAccount],
    access_token_ttl: int = 600,
    on_line: LineSink | None = None,
) -> OidcProvider:
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise RuntimeError(f"the OIDC provider is not installed: run npm ci in {PROVIDER_DIR} (.ci/run does)")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("the OIDC provider needs Node.js 20 or later on PATH")
    port = free_port()
    argv = [
        node,
        "server.mjs",
        f"--port={port}",
        f"--client-id={client_id}",
        f"--redirect-uri={redirect_uri}",
        f"--post-logout-uri={post_logout_uri}",
        f"--access-token-ttl={access_token_ttl}",
        "--accounts=" + json.dumps([account.__dict__ for account in accounts]),
    ]
    process = ManagedProcess("oidc-provider", argv, cwd=PROVIDER_DIR, on_line=on_line)
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{issuer}/.well-known/openid-configuration", 30, process=process)
    except BaseException:
        process.stop()
        raise
    return OidcProvider(issuer=issuer, client_id=client_id, accounts=accounts, process=process)


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', re.S)
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def walk_to_callback(web: httpx.AsyncClient, account: OidcAccount, *, next_path: str = "/") -> str:
    """Sign in at the provider as a browser without JavaScript would, up to the callback URL.

    `web` is one browser's client of the web app (its own cookies): it starts the sign-in, so
    the attempt belongs to it. The URL the provider sends the browser back to is returned,
    not opened, so a test can deliver it to whichever browser it likes, or twice.
    """
    start = await web.get("/sign-in/oidc", params={"next": next_path})
    assert start.status_code == 303, start.text
    url = start.headers["location"]
    callback = str(web.base_url).rstrip("/") + "/sign-in/callback"
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as browser:
        for _ in range(12):
            if url.startswith(callback):
                return url
            response = await browser.get(url)
            if response.status_code in (302, 303):
                url = urljoin(url, response.headers["location"])
                continue
            form = _FORM.search(response.text)
            assert response.status_code == 200 and form, (
                f"the provider answered {response.status_code}: {response.text}"
            )
            fields = {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(form.group(2))}
            if 'name="login"' in form.group(2):
                fields |= {"login": account.sub, "password": "any password"}
            posted = await browser.post(urljoin(url, html.unescape(form.group(1))), data=fields)
            assert posted.status_code in (302, 303), f"the provider answered {posted.status_code}: {posted.text}"
            url = urljoin(url, posted.headers["location"])
    raise AssertionError(f"the provider never sent the browser back to {callback}; last at {url}")
