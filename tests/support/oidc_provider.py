"""A real OpenID provider for sign-in tests: panva's oidc-provider (tools/oidc-provider), by PID.

`npm ci` in tools/oidc-provider installs it (.ci/run does); nothing downloads at test time.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
