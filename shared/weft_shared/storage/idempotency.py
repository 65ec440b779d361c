"""Idempotency keys: who sent which key, for which request, and what it was answered.

One document per (principal, key) in the service's own `idempotency_keys`
collection (unique on the pair), in three states:

- `running`: a first attempt holds the key (a lease, so a crashed attempt does
  not hold it for ever); written before the request runs, outside any
  transaction, so a concurrent retry sees it and is told 409.
- `applied`: the request's change committed. The unit of work writes this *in
  the transaction of the change* (it takes the claim from `pending_claim`), so a
  change and its key commit together or not at all: a crash before the commit
  leaves the key `running` (a retry applies once the lease is over), a crash
  after it leaves it `applied` (a retry is never applied a second time; once
  the lease is over it is told the change was applied).
- `done`: the answer is kept (status, headers, body) and replayed to retries.

Keys are kept at least `KEEP` (a TTL index removes them later); an older one is
treated as absent even while the TTL monitor has not removed it yet.

Answers can hold secrets the services themselves keep only as hashes (an
invitation token, a calendar feed URL), so nothing here is usable without the
client's key: the document holds an HMAC of the key, not the key, and the answer
sealed (AES-GCM) under another key derived from it. A database leak does not
leak answers (unless the client picked a guessable key; the draft asks for UUIDs).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import bson
from bson import ObjectId
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from weft_shared.errors import Conflict

Doc = dict[str, Any]
COLLECTION = "idempotency_keys"
# The draft suggests at least a day; TTL removal comes some time after this.
KEEP = timedelta(hours=24)
# How long a first attempt holds its key before a retry may take it over: past
# mongod's 60 s transaction lifetime, an attempt that has not committed never will.
LEASE = timedelta(seconds=60)
RUNNING, APPLIED, DONE = "running", "applied", "done"


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def to_bytes(self) -> bytes:
        return bson.encode({"status": self.status, "headers": [list(h) for h in self.headers], "body": self.body})

    @classmethod
    def from_bytes(cls, data: bytes) -> StoredResponse:
        doc = bson.decode(data)
        return cls(int(doc["status"]), [(str(k), str(v)) for k, v in doc["headers"]], bytes(doc["body"]))


@dataclass(frozen=True, slots=True)
class KeyRef:
    """One caller's key as stored (`lookup`), and the secret only its holder can derive."""

    principal: str
    lookup: str
    secret: bytes

    @classmethod
    def of(cls, principal: str, key: str) -> KeyRef:
        def derive(label: bytes) -> bytes:
            return hmac.new(key.encode(), label + b"\0" + principal.encode(), hashlib.sha256).digest()

        return cls(principal, derive(b"weft-idempotency-lookup").hex(), derive(b"weft-idempotency-seal"))

    def mark(self, fingerprint: str) -> str:
        """The request's fingerprint as stored: keyed, so it cannot be matched against guesses."""
        return hmac.new(self.secret, fingerprint.encode(), hashlib.sha256).hexdigest()

    def seal(self, response: StoredResponse) -> bytes:
        nonce = secrets.token_bytes(12)
        return nonce + AESGCM(self.secret).encrypt(nonce, response.to_bytes(), self.lookup.encode())

    def open(self, sealed: bytes) -> StoredResponse | None:
        try:
            return StoredResponse.from_bytes(
                AESGCM(self.secret).decrypt(sealed[:12], sealed[12:], self.lookup.encode())
            )
        except InvalidTag:
            return None


class ClaimLost(Conflict):
    """A retry took this key over (our lease ran out): our change must not commit."""

    def __init__(self) -> None:
        super().__init__("a newer attempt with this Idempotency-Key took it over; this one was not applied")


@dataclass(slots=True)
class Claim:
    """This attempt holds the key; the unit of work records it in the change's transaction."""

    keys: IdempotencyKeys
    ref: KeyRef
    id: ObjectId
    owner: str
    recorded: bool = field(default=False)

    async def record(self, session: AsyncClientSession) -> None:
        found = await self.keys.collection.update_one(
            {"_id": self.id, "owner": self.owner, "state": RUNNING},
            {"$set": {"state": APPLIED, "applied_at": datetime.now(UTC)}},
            session=session,
        )
        if found.matched_count == 0:
            raise ClaimLost()


@dataclass(frozen=True, slots=True)
class Replay:
    response: StoredResponse


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used for a different request (method, path, query or body)."""


@dataclass(frozen=True, slots=True)
class InProgress:
    """The first attempt is still running."""


@dataclass(frozen=True, slots=True)
class AppliedUnanswered:
    """The change committed but its answer was never kept (a crash in between)."""

    applied_at: datetime | None


Outcome = Claim | Replay | Mismatch | InProgress | AppliedUnanswered

# The claim of the request this code runs for, if it carries a key (see unit_of_work).
pending_claim: ContextVar[Claim | None] = ContextVar("weft_idempotency_claim", default=None)


class IdempotencyKeys:
    def __init__(self, db: AsyncDatabase[Doc], *, keep: timedelta = KEEP, lease: timedelta = LEASE) -> None:
        self.collection: AsyncCollection[Doc] = db[COLLECTION]
        self.keep = keep
        self.lease = lease

    async def create_indexes(self) -> None:
        await self.collection.create_index(
            [("principal", ASCENDING), ("key", ASCENDING)], unique=True, name="principal_key"
        )
        await self.collection.create_index(
            "created_at", expireAfterSeconds=int(self.keep.total_seconds()), name="created_at_ttl"
        )

    async def begin(self, principal: str, key: str, fingerprint: str) -> Outcome:
        """Claim the key for a first attempt, or say what a retry gets instead.

        Two attempts racing (two replicas) both try the insert: the unique index
        lets one through. A few rounds cover a key released or expired meanwhile.
        These writes are outside any transaction on purpose: other attempts must see them at once."""
        ref = KeyRef.of(principal, key)
        mark = ref.mark(fingerprint)
        for _ in range(4):
            now = datetime.now(UTC)
            claim = Claim(self, ref, ObjectId(), secrets.token_hex(8))
            try:
                await self.collection.insert_one(
                    {
                        "_id": claim.id,
                        "principal": principal,
                        "key": ref.lookup,
                        "fingerprint": mark,
                        "state": RUNNING,
                        "owner": claim.owner,
                        "lease_until": now + self.lease,
                        "created_at": now,
                    }
                )
                return claim
            except DuplicateKeyError:
                pass
            held = await self.collection.find_one({"principal": principal, "key": ref.lookup})
            if held is None:  # released (a 5xx) or removed since the insert
                continue
            if held["created_at"] <= now - self.keep:  # expired; the TTL monitor has not got to it yet
                await self.collection.delete_one({"_id": held["_id"], "created_at": held["created_at"]})
                continue
            if held["fingerprint"] != mark:
                return Mismatch()
            if held["state"] == DONE:
                response = ref.open(held["response"])
                if response is None:  # cannot happen unless the document was tampered with
                    return Mismatch()
                return Replay(response)
            if held["lease_until"] > now:  # applied or not, the first attempt may still answer
                return InProgress()
            if held["state"] == APPLIED:  # committed, and its attempt died before keeping the answer
                return AppliedUnanswered(held.get("applied_at"))
            # The first attempt died before its change committed: this one takes over.
            taken = await self.collection.update_one(
                {"_id": held["_id"], "owner": held["owner"], "state": RUNNING},
                {"$set": {"owner": claim.owner, "lease_until": now + self.lease}},
            )
            if taken.matched_count:
                return Claim(self, ref, held["_id"], claim.owner)
        return InProgress()

    async def finish(self, claim: Claim, response: StoredResponse) -> None:
        """Keep the answer for retries (nothing happens if a retry took the key over)."""
        await self.collection.update_one(
            {"_id": claim.id, "owner": claim.owner},
            {"$set": {"state": DONE, "response": claim.ref.seal(response), "finished_at": datetime.now(UTC)}},
        )

    async def release(self, claim: Claim) -> None:
        """An attempt ended without an answer worth keeping (a 5xx). If it changed nothing,
        forget the key so a retry runs at once; if its change committed, the key stays
        `applied` (a retry must not apply it again) and its lease ends now, so a retry is
        told so at once instead of waiting for an attempt that will not answer."""
        forgotten = await self.collection.delete_one({"_id": claim.id, "owner": claim.owner, "state": RUNNING})
        if forgotten.deleted_count == 0:
            await self.collection.update_one(
                {"_id": claim.id, "owner": claim.owner, "state": APPLIED},
                {"$set": {"lease_until": datetime.now(UTC)}},
            )


def header_pairs(raw: Sequence[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
