"""One durable JetStream pull consumer, driven by a small loop of our own on nats-py.

Why not FastStream's pull subscriber: its loop (`PullStreamSubscriber._consume_pull`,
FastStream 0.7.8) only suppresses `nats.errors.TimeoutError`, but since nats-py 2.15
an idle `fetch(batch > 1)` can also raise a bare `asyncio.TimeoutError`
(`_fetch_n`, "raise asyncio.TimeoutError" when the deadline ran out while the
server's 408 for the no-wait probe came in). That escapes the loop, kills its task,
and FastStream's task supervisor logs "Task-N raised an exception, retrying..." at
ERROR and restarts it — with no backoff, and not at all if the supervisor is off.

This loop treats every timeout as "no messages yet", backs off on real errors
(NATS away, JetStream unavailable, the consumer gone), re-creates the durable
consumer when it has vanished, and stops cleanly: it waits for the batch in hand,
and cancels only a fetch that is still waiting.

Replicas of a service pass the same durable name and so share one consumer: each
message goes to one of them. The durable is created or updated on start with the
given config (JetStream's create is idempotent for an equal config).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable

from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig
from nats.js.errors import NotFoundError

log = logging.getLogger("weft.subscription")


class PulledMessage:
    """One message fetched from the consumer, with the acknowledgement verbs the
    dispatcher uses. Acknowledging twice is a no-op, not an error."""

    __slots__ = ("_settled", "body", "raw_message")

    def __init__(self, raw_message: Msg) -> None:
        self.raw_message = raw_message
        self.body: bytes = raw_message.data
        self._settled = False

    @property
    def settled(self) -> bool:
        return self._settled

    async def ack(self) -> None:
        if not self._settled:
            self._settled = True
            await self.raw_message.ack()

    async def nack(self, delay: float | None = None) -> None:
        """Redeliver, after `delay` seconds if given."""
        if not self._settled:
            self._settled = True
            await self.raw_message.nak(delay=delay)


MessageHandler = Callable[[bytes, PulledMessage], Awaitable[None]]


class _Trouble:
    """Says when a run of failures starts (warning), then at most once per
    `every` seconds while it lasts, and when it ends (info)."""

    def __init__(self, what: str, every: float = 60.0) -> None:
        self._what = what
        self._every = every
        self._since: float | None = None
        self._last_said = 0.0
        self._count = 0

    def failed(self, action: str, exc: BaseException) -> None:
        now = time.monotonic()
        self._count += 1
        if self._since is None:
            self._since = now
        elif now - self._last_said < self._every:
            return
        self._last_said = now
        log.warning("%s: %s failed (%d time(s) so far), will retry: %r", self._what, action, self._count, exc)

    def recovered(self) -> None:
        if self._since is not None:
            log.info(
                "%s: working again after %d failure(s) in %.1f s",
                self._what,
                self._count,
                time.monotonic() - self._since,
            )
        self._since = None
        self._count = 0


class PullConsumer:
    """Fetches batches from one durable pull consumer and hands each message to
    `handler(body, message)`; the handler acknowledges. The messages of one batch
    are handled concurrently, and the next fetch waits for the whole batch.

    A message whose handler raised, or returned without acknowledging, is left
    unacknowledged: JetStream redelivers it after the consumer's `ack_wait` (as
    FastStream's manual-ack subscriber did), counting towards `max_deliver`.
    """

    def __init__(
        self,
        broker: NatsBroker,
        *,
        stream: str,
        durable: str,
        config: ConsumerConfig,
        handler: MessageHandler,
        batch: int = 16,
        fetch_timeout: float = 5.0,
        max_backoff: float = 15.0,
        check_every: float = 30.0,
        graceful_timeout: float = 10.0,
    ) -> None:
        if batch < 1 or fetch_timeout <= 0:
            raise ValueError("batch must be >= 1 and fetch_timeout > 0")
        self._broker = broker
        self.stream = stream
        self.durable = durable
        self._config = config
        self._handler = handler
        self._batch = batch
        self._fetch_timeout = fetch_timeout
        self._max_backoff = max_backoff
        self._check_every = check_every
        self._graceful_timeout = graceful_timeout
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._handling = False  # handling a batch: stop() lets it finish; anything else is cancelled
        self._trouble = _Trouble(f"consumer {durable!r} on {stream}")
        self.handled = 0  # messages whose handler returned, for tests and diagnostics

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Create or update the durable consumer and start fetching. Raises if the
        stream is missing or the config is refused: a service should not start then."""
        if self._task is not None:
            return
        self._stopping.clear()
        await self._bind()
        self._task = asyncio.create_task(self._run(), name=f"pull consumer {self.durable}")

    async def stop(self) -> None:
        """Finish the batch in hand (up to `graceful_timeout`), then stop fetching.
        A fetch still waiting is cancelled: whatever it was about to receive stays
        unacknowledged and is redelivered (to a replica, or to the next start)."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping.set()
        if not self._handling:
            task.cancel()
        done, _ = await asyncio.wait({task}, timeout=self._graceful_timeout)
        if not done:
            log.warning(
                "consumer %r: batch still running after %.0f s, cancelling", self.durable, self._graceful_timeout
            )
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.warning("consumer %r: loop ended with %r", self.durable, exc)
        await self._unsubscribe()

    # The loop

    async def _run(self) -> None:
        failures = 0
        last_seen = time.monotonic()  # last message, or last check that the consumer exists
        while not self._stopping.is_set():
            step = "binding"
            try:
                if self._subscription is None:
                    await self._bind()
                    last_seen = time.monotonic()
                elif time.monotonic() - last_seen > self._check_every:
                    step = "checking"
                    await self._check_consumer()
                    last_seen = time.monotonic()
                step = "fetching"
                started = time.monotonic()
                messages = await self._fetch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                self._trouble.failed(step, exc)
                await self._unsubscribe()  # bind again next round: the consumer may be gone
                await self._sleep(self._backoff(failures))
                continue
            failures = 0
            self._trouble.recovered()
            if messages:
                last_seen = time.monotonic()
                self._handling = True
                try:
                    await self._handle_batch(messages)
                finally:
                    self._handling = False
            elif time.monotonic() - started < self._fetch_timeout / 2:
                # An empty answer long before the deadline (a 409 status, say): don't spin.
                await self._sleep(min(self._fetch_timeout, 0.5))

    async def _fetch(self) -> list[Msg]:
        assert self._subscription is not None
        try:
            return await self._subscription.fetch(self._batch, timeout=self._fetch_timeout)
        except TimeoutError:
            # Nothing to fetch. This catches nats.errors.TimeoutError, its subclass
            # FetchTimeoutError, and the bare asyncio.TimeoutError nats-py also raises
            # (all one class tree on Python >= 3.11).
            return []

    async def _handle_batch(self, messages: list[Msg]) -> None:
        async with asyncio.TaskGroup() as group:
            for raw in messages:
                group.create_task(self._handle_one(PulledMessage(raw)))

    async def _handle_one(self, message: PulledMessage) -> None:
        # A long handler (a fan-out to a large community) tells JetStream it is still
        # working, so the message is not redelivered to a replica mid-way: the second
        # attempt would only conflict with the first, and count towards max_deliver.
        keep_alive = asyncio.create_task(self._working(message))
        try:
            await self._handler(message.body, message)
            self.handled += 1
        except Exception:
            log.warning(
                "consumer %r: handler raised on message %s; it is redelivered after ack_wait",
                self.durable,
                _describe(message.raw_message),
                exc_info=True,
            )
        finally:
            keep_alive.cancel()

    async def _working(self, message: PulledMessage) -> None:
        every = max(1.0, float(self._config.ack_wait or 30) / 3)
        while True:
            await asyncio.sleep(every)
            if message.settled:
                return
            with contextlib.suppress(Exception):  # best effort: at worst the message is redelivered
                await message.raw_message.in_progress()

    # Binding and checking the durable consumer

    def _jetstream(self) -> JetStreamContext:
        js: JetStreamContext = self._broker.config.connection_state.stream
        return js

    async def _bind(self) -> None:
        js = self._jetstream()
        await js.add_consumer(self.stream, config=await self._config_for_existing(js))
        self._subscription = await js.pull_subscribe_bind(durable=self.durable, stream=self.stream)

    async def _config_for_existing(self, js: JetStreamContext) -> ConsumerConfig:
        """Where a durable starts is fixed when it is created, and JetStream refuses an
        update that changes it: keep the existing consumer's start (`weft restore`
        re-creates it at a recorded sequence) and update the rest."""
        try:
            existing = (await js.consumer_info(self.stream, self.durable)).config
        except NotFoundError:
            return self._config
        return dataclasses.replace(
            self._config,
            deliver_policy=existing.deliver_policy,
            opt_start_seq=existing.opt_start_seq,
            opt_start_time=existing.opt_start_time,
        )

    async def _check_consumer(self) -> None:
        """After a quiet spell, ask whether the consumer still exists. A deleted one
        usually makes `fetch` fail (503, no responders), which binds again; this
        also covers fetches that merely time out against a consumer that is gone."""
        assert self._subscription is not None
        try:
            await self._subscription.consumer_info()
        except NotFoundError:
            log.warning("consumer %r on %s vanished, creating it again", self.durable, self.stream)
            await self._unsubscribe()
            await self._bind()

    async def _unsubscribe(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()

    # Waiting

    def _backoff(self, failures: int) -> float:
        delay: float = min(self._max_backoff, 0.5 * 2 ** min(failures - 1, 10))
        return delay * random.uniform(0.8, 1.2)  # noqa: S311  (jitter, not cryptography)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _describe(msg: Msg) -> str:
    try:
        return f"#{msg.metadata.sequence.stream} on {msg.subject}"
    except Exception:
        return msg.subject
