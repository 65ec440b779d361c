"""Personal calendar feed tokens. No I/O.

The token is the credential (calendar apps subscribe with a bare URL), so only
its sha256 is stored: a copy of the database does not let anyone read feeds.
"""

from __future__ import annotations

import hashlib
import re
import secrets

# token_urlsafe(32): 43 characters of the base64url alphabet. Anything else is
# not one of ours, and is turned away without a query.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def looks_like_token(token: str) -> bool:
    return _TOKEN_SHAPE.fullmatch(token) is not None
