"""The unit of work: the only code that opens sessions and transactions.

A use case hands `UnitOfWork.run` a function that does its reads and writes
with `tx.session` and says what to announce with `tx.announce(...)`. The
function runs in one MongoDB transaction together with the outbox records of
those announcements; transient errors (write conflicts, an unknown commit
result) re-run it from the start, so it must only read and write through the
transaction and keep no state outside it. After the commit the records go to
the relay.

A `run` inside another `run` (a message handler calling a use case) joins the
outer transaction: the handler's effect, its processed-message record and its
announcements commit together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from opentelemetry import trace
from opentelemetry.trace import Tracer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.read_concern import ReadConcern

from weft_shared.contracts.base import MessagePayload
from weft_shared.messaging.outbox import Announcement, MessageFactory, Outbox, OutboxRecord
from weft_shared.storage.client import DURABLE
from weft_shared.storage.idempotency import pending_claim

T = TypeVar("T")


class CommittedRecords(Protocol):
    async def publish_committed(self, records: Sequence[OutboxRecord]) -> None: ...


class Transaction:
    """One attempt of a unit of work: its session and what it announces."""

    def __init__(self, session: AsyncClientSession, messages: MessageFactory) -> None:
        self.session = session
        self._messages = messages
        self.announced: list[tuple[str, Announcement]] = []

    def announce(
        self, payload: MessagePayload, *, aggregate: str, community_id: str | None, message_id: str | None = None
    ) -> None:
        """Send `payload` once this transaction commits. `aggregate` names what it is
        about (`collection/id`); messages about one aggregate go out in commit order."""
        announcement = self._messages.announcement(payload, community_id=community_id, message_id=message_id)
        self.announced.append((aggregate, announcement))


_current: ContextVar[Transaction | None] = ContextVar("weft_transaction", default=None)


class KeyedQueue:
    """One asyncio lock per key while anyone holds or waits for it (none kept after)."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key]
                del self._locks[key]


class UnitOfWork:
    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        outbox: Outbox,
        messages: MessageFactory,
        relay: CommittedRecords | None = None,
        *,
        tracer: Tracer | None = None,
    ) -> None:
        self._client = client
        self._tracer = tracer or trace.get_tracer("weft")
        self._outbox = outbox
        self._messages = messages
        self.relay = relay
        self._queue = KeyedQueue()

    async def run(self, work: Callable[[Transaction], Awaitable[T]], *, one_at_a_time: str | None = None) -> T:
        """Run `work` in a transaction (or in the caller's, when nested).

        `one_at_a_time` names a hot aggregate (e.g. `events/<id>`) whose writers this
        process should queue for instead of running side by side: concurrent
        transactions writing one document conflict and retry with back-off, which
        collapses throughput on a busy occurrence. Correctness never depends on it
        (other replicas still conflict and retry); it only avoids needless conflicts.
        """
        active = _current.get()
        if active is not None:
            return await work(active)
        if one_at_a_time is None:
            return await self._run_new(work)
        async with self._queue.hold(one_at_a_time):
            return await self._run_new(work)

    async def _run_new(self, work: Callable[[Transaction], Awaitable[T]]) -> T:
        committed: list[OutboxRecord] = []
        attempts = 0
        # The request's Idempotency-Key, if any, commits with its (first) change.
        claim = pending_claim.get()

        async def attempt(session: AsyncClientSession) -> T:
            nonlocal attempts
            attempts += 1
            tx = Transaction(session, self._messages)
            token = _current.set(tx)
            try:
                result = await work(tx)
            finally:
                _current.reset(token)
            committed[:] = await self._outbox.add(session, tx.announced)
            if claim is not None and not claim.recorded:
                await claim.record(session)
            return result

        # The outbox records written inside this span keep its context: their publish continues it.
        with self._tracer.start_as_current_span("unit of work", attributes={"db.system.name": "mongodb"}) as span:
            async with self._client.start_session() as session:
                # with_transaction retries TransientTransactionError (with back-off) and
                # UnknownTransactionCommitResult, for up to two minutes.
                result = await session.with_transaction(
                    attempt, read_concern=ReadConcern("snapshot"), write_concern=DURABLE
                )
            span.set_attribute("weft.transaction.attempts", attempts)
            span.set_attribute("weft.outbox.records", len(committed))
        if claim is not None:
            claim.recorded = True
        if committed and self.relay is not None:
            await self.relay.publish_committed(committed)
        return result


def current_session() -> AsyncClientSession | None:
    """The session of the transaction this code runs in, if any: repositories pass it
    to every query so that code called from a message handler reads and writes
    inside the handler's transaction."""
    active = _current.get()
    return active.session if active is not None else None
