"""The `Idempotency-Key` request header (IETF httpapi draft, the convention Stripe
made common): a client that retries a write with the same key gets the first
answer again instead of a second change.

For every POST/PUT/PATCH/DELETE that carries the header and a valid bearer token
(unauthenticated requests are not keyed; the route refuses them anyway):

- same principal, key and request (method, path, query, body) as a finished
  one → its answer again, byte for byte, with `Idempotent-Replayed: true`;
- the same key for a different request → 422;
- the first attempt still running (within its lease) → 409 with `Retry-After`;
- the first attempt's change committed but its answer was lost (a crash or a
  5xx in between) → 409 that says so (`"applied": true`): never applied twice;
- a 5xx whose change did not commit is not kept, so a retry runs again; 4xx
  answers are kept (the same request gets the same refusal).

The key's state commits in the same transaction as the change (see
`weft_shared.storage.idempotency`). A plain ASGI middleware, innermost, so the
request id middleware and the problem handlers apply to what it answers.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from typing import IO, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from weft_shared.auth.deps import bearer_token
from weft_shared.auth.tokens import TokenVerifier
from weft_shared.errors import PROBLEM_JSON, Problem, problem_body, problem_response, problem_response_doc
from weft_shared.storage.idempotency import (
    AppliedUnanswered,
    Claim,
    IdempotencyKeys,
    InProgress,
    Mismatch,
    Replay,
    StoredResponse,
    header_pairs,
    pending_claim,
)

log = logging.getLogger("weft.idempotency")

HEADER = "Idempotency-Key"
REPLAYED = b"idempotent-replayed"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255
_HEADER_BYTES = HEADER.lower().encode()
# A body is kept in memory up to this size while the key is checked, on disk beyond it.
_SPOOL_IN_MEMORY_BYTES = 1024 * 1024
_REPLAY_CHUNK_BYTES = 64 * 1024


def install(app: FastAPI, keys: IdempotencyKeys, verifier: TokenVerifier) -> None:
    """Key every write of `app` and document the header in its OpenAPI."""
    # Appended, not added: the innermost user middleware, inside the request id one.
    app.user_middleware.append(Middleware(IdempotencyMiddleware, keys=keys, verifier=verifier))
    document_in_openapi(app)


def valid_key(value: bytes) -> bool:
    """1..255 visible ASCII characters (no spaces, no controls)."""
    return 1 <= len(value) <= MAX_KEY_LENGTH and all(0x21 <= b <= 0x7E for b in value)


def fingerprint(method: str, path: str, query: bytes, body_sha256: bytes) -> str:
    """The request's identity: method, path, query and the body's SHA-256 (the body itself
    may be a large upload, hashed as it streams in)."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body_sha256):
        digest.update(len(part).to_bytes(8, "big"))  # length-prefixed: no two requests share a digest input
        digest.update(part)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, *, keys: IdempotencyKeys, verifier: TokenVerifier) -> None:
        self.app = app
        self.keys = keys
        self.verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope["headers"] if k == _HEADER_BYTES]
        if not values:
            await self.app(scope, receive, send)
            return
        if len(values) > 1:
            await _refuse(scope, receive, send, 400, f"send one {HEADER} header, not {len(values)}")
            return
        if not valid_key(values[0]):
            detail = f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            await _refuse(scope, receive, send, 400, detail)
            return
        principal = await self._principal(scope)
        if principal is None:
            await self.app(scope, receive, send)
            return
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES) as body:
            body_sha256 = await _spool_body(receive, body)
            digest = fingerprint(scope["method"], scope["path"], scope.get("query_string", b""), body_sha256)
            await self._keyed(scope, receive, send, principal, values[0].decode("ascii"), digest, body)

    async def _keyed(
        self, scope: Scope, receive: Receive, send: Send, principal: str, key: str, digest: str, body: IO[bytes]
    ) -> None:
        outcome = await self.keys.begin(principal, key, digest)
        if not isinstance(outcome, Claim):  # not the path: paths can carry secrets (invitation tokens)
            fields = {"sub": principal, "method": scope["method"]}
            log.info("idempotency key: %s", type(outcome).__name__, extra={"fields": fields})
        if isinstance(outcome, Claim):
            await self._first_attempt(outcome, scope, _replaying(body, receive), send)
        elif isinstance(outcome, Replay):
            await _send_stored(outcome.response, send)
        elif isinstance(outcome, Mismatch):
            detail = f"this {HEADER} was used for a different request (method, path, query or body)"
            await _refuse(scope, receive, send, 422, detail)
        elif isinstance(outcome, InProgress):
            detail = f"the first request with this {HEADER} is still being processed; retry later"
            await _refuse(scope, receive, send, 409, detail, headers={"Retry-After": "1"})
        elif isinstance(outcome, AppliedUnanswered):
            await _applied_unanswered(outcome, scope, receive, send)

    async def _principal(self, scope: Scope) -> str | None:
        authorization = [v for k, v in scope["headers"] if k == b"authorization"]
        if len(authorization) != 1:
            return None
        try:
            principal = await self.verifier.verify(bearer_token(authorization[0].decode("latin-1")))
        except Problem:
            return None
        return principal.sub

    async def _first_attempt(self, claim: Claim, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        token = pending_claim.set(claim)
        try:
            await self.app(scope, receive, capture)
        except Exception:  # the error handler answers 500; a retry may run again
            await self.keys.release(claim)
            raise
        finally:
            pending_claim.reset(token)
        if start is None:  # the app sent nothing: nothing to keep
            await self.keys.release(claim)
            return
        response = StoredResponse(start["status"], header_pairs(start.get("headers", [])), b"".join(chunks))
        if response.status >= 500:
            await self.keys.release(claim)
        else:
            # Kept before it is sent: a client that got this answer can only retry into a replay.
            await self.keys.finish(claim, response)
        await send({"type": "http.response.start", "status": response.status, "headers": start.get("headers", [])})
        await send({"type": "http.response.body", "body": response.body})


async def _spool_body(receive: Receive, spool: IO[bytes]) -> bytes:
    """Read the whole body into `spool` (memory up to 1 MiB, then a temporary file: an
    upload is never held whole); its SHA-256."""
    digest = hashlib.sha256()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        digest.update(chunk)
        spool.write(chunk)
        if not message.get("more_body", False):
            break
    spool.seek(0)
    return digest.digest()


def _replaying(body: IO[bytes], receive: Receive) -> Receive:
    """The body already read, a piece at a time, then the real channel (for disconnects)."""
    size = body.seek(0, 2)
    body.seek(0)
    done = False

    async def replay() -> Message:
        nonlocal done
        if done:
            return await receive()
        chunk = body.read(_REPLAY_CHUNK_BYTES)
        done = body.tell() >= size
        return {"type": "http.request", "body": chunk, "more_body": not done}

    return replay


async def _send_stored(response: StoredResponse, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": [*headers, (REPLAYED, b"true")]})
    await send({"type": "http.response.body", "body": response.body})


async def _refuse(
    scope: Scope, receive: Receive, send: Send, status: int, detail: str, *, headers: dict[str, str] | None = None
) -> None:
    errors = [{"field": HEADER, "message": detail}]
    response = problem_response(status, detail, instance=scope["path"], errors=errors, headers=headers)
    await response(scope, receive, send)


async def _applied_unanswered(outcome: AppliedUnanswered, scope: Scope, receive: Receive, send: Send) -> None:
    detail = (
        f"the first request with this {HEADER} was applied, but its answer was lost before it was kept; "
        "read the resource to see the result (a new key would apply it again)"
    )
    body = problem_body(409, detail, instance=scope["path"], errors=[{"field": HEADER, "message": detail}])
    body["applied"] = True
    if outcome.applied_at is not None:
        body["applied_at"] = outcome.applied_at.isoformat()
    response = JSONResponse(body, status_code=409, media_type=PROBLEM_JSON, headers={"Idempotent-Replayed": "true"})
    await response(scope, receive, send)


# OpenAPI: a reusable header parameter on every write operation, and what it can answer.

_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe: the same key with the same request returns the first answer again "
        "(with `Idempotent-Replayed: true`) instead of applying it twice. Keys are kept for at "
        "least 24 hours, per caller. The same key with a different request is refused (422); a "
        "retry while the first attempt runs gets 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
}
_RESPONSES = {
    "400": "Malformed or repeated `Idempotency-Key` header",
    "409": "A request with this `Idempotency-Key` is still running, or was applied and its answer lost",
    "422": "This `Idempotency-Key` was used for a different request",
}


def add_idempotency_key(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the header once (`components.parameters.IdempotencyKey`) and refer to it
    from every POST/PUT/PATCH/DELETE operation; responses already declared are kept."""
    schema.setdefault("components", {}).setdefault("parameters", {})["IdempotencyKey"] = _PARAMETER
    reference = {"$ref": "#/components/parameters/IdempotencyKey"}
    for path_item in schema.get("paths", {}).values():
        for method, operation in path_item.items():
            if method.upper() not in WRITES:
                continue
            parameters = operation.setdefault("parameters", [])
            if reference not in parameters:
                parameters.append(reference)
            responses = operation.setdefault("responses", {})
            for status, description in _RESPONSES.items():
                responses.setdefault(status, problem_response_doc(int(status), description))
    return schema


def document_in_openapi(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        return add_idempotency_key(build())  # idempotent: FastAPI caches the document it builds

    app.openapi = openapi  # type: ignore[method-assign]
