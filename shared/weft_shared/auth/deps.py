"""FastAPI dependencies: `CurrentUser` for any route that needs a caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers

from weft_shared.auth.tokens import Principal, TokenVerifier
from weft_shared.errors import BadRequest, Unauthorized


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("expected 'Authorization: Bearer <token>'")
    return token.strip()


# Only documents the scheme in OpenAPI (`security` on each operation that takes a caller);
# the header itself is read and checked below, with our own problem+json answers.
_documented_bearer = HTTPBearer(scheme_name="bearer", bearerFormat="JWT", auto_error=False)


async def current_principal(
    request: Request, _documented: Annotated[HTTPAuthorizationCredentials | None, Security(_documented_bearer)]
) -> Principal:
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(bearer_token(single_header(request.headers, "Authorization")))
    erased = getattr(request.app.state, "erased_people", None)
    if erased is not None and await erased.refuses(principal.sub, principal.claims.get("iat")):
        # An erased person's old token must not bring them back (nor act for them).
        raise Unauthorized("this account was erased; sign in again to start afresh")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def single_header(headers: Headers, name: str) -> str | None:
    """The header's value, refusing more than one: a proxy that reads the last copy and a service
    that reads the first would each act on a different caller."""
    values = headers.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"send one {name} header, not {len(values)}", field=name)
    return values[0] if values else None
