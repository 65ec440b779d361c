"""`weft tail`: print messages from NATS as they pass, one line each."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable

import nats
import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError

Show = Callable[[Msg], Awaitable[None]]
# Longest pause between attempts to re-create the consumer while JetStream comes back.
RESUME_MAX_DELAY = 2.0


def format_message(msg: Msg) -> str:
    """`<subject> <compact JSON body>`; a body that is not JSON is shown as text."""
    try:
        body = orjson.dumps(orjson.loads(msg.data)).decode()
    except orjson.JSONDecodeError:
        body = msg.data.decode("utf-8", errors="replace")
    return f"{msg.subject} {body}"


def _note(message: str) -> None:
    print(f"weft tail: {message}", file=sys.stderr, flush=True)


async def _connect(url: str, stopping: asyncio.Event, on_reconnect: Callable[[], None]) -> NATS:
    """Fail fast if NATS is not there at first; once connected, ride out restarts.

    `stopping` is set once we were told to stop: closing the connection then is
    no outage, so nothing is said about it.
    """

    async def on_error(exc: Exception) -> None:
        pass  # the callbacks below say what matters, without nats-py's tracebacks

    async def on_disconnect() -> None:
        if not stopping.is_set():
            _note("connection lost, reconnecting ...")

    async def on_reconnected() -> None:
        _note("reconnected")
        on_reconnect()

    # nats-py retries even a first connect (60 x 2 s by default); the probe tries twice, quickly.
    probe = await nats.connect(
        url,
        connect_timeout=5,
        allow_reconnect=False,
        max_reconnect_attempts=1,
        reconnect_time_wait=0.2,
        error_cb=on_error,
    )
    await probe.close()
    return await nats.connect(
        url,
        name="weft-tail",
        connect_timeout=5,
        max_reconnect_attempts=-1,
        error_cb=on_error,
        disconnected_cb=on_disconnect,
        reconnected_cb=on_reconnected,
    )


class StreamFollower:
    """Prints a stream's messages on one subject once each, in stream order, across outages.

    An ordered consumer is ephemeral: a NATS restart forgets it, and what was published
    while this client was away is only in the stream. So after every reconnect a new one
    starts right after the last stream sequence printed, and a message at or before that
    sequence (a consumer that lived on after all) is not printed twice.
    """

    def __init__(self, js: JetStreamContext, stream: str, subject: str, *, after: int, show: Show) -> None:
        self.js = js
        self.stream = stream
        self.subject = subject
        self.last_seq = after
        self._show = show
        self._subscription: JetStreamContext.PushSubscription | None = None
        self._resuming: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._subscription = await self.js.subscribe(
            self.subject,
            stream=self.stream,
            cb=self._on_message,
            ordered_consumer=True,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=self.last_seq + 1),
        )

    def resume_soon(self) -> None:
        """After a reconnect: replace the consumer (in the background; nats-py's callback must return)."""
        if self._resuming is None or self._resuming.done():
            self._resuming = asyncio.create_task(self._resume())

    async def stop(self) -> None:
        if self._resuming is not None:
            self._resuming.cancel()
        await self._drop_subscription()

    async def _resume(self) -> None:
        await self._drop_subscription()
        delay = 0.2
        while True:
            try:
                await self.start()  # JetStream may still be recovering its streams just after a restart
            except (TimeoutError, NatsError):
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESUME_MAX_DELAY)
                continue
            _note(f"resumed stream {self.stream} after sequence {self.last_seq}")
            return

    async def _drop_subscription(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(NatsError, asyncio.TimeoutError):
                await subscription.unsubscribe()

    async def _on_message(self, msg: Msg) -> None:
        seq = msg.metadata.sequence.stream
        if seq <= self.last_seq:
            return
        self.last_seq = seq
        await self._show(msg)


async def tail(url: str, subject: str, *, replay: bool, stream: str) -> int:
    async def show(msg: Msg) -> None:
        sys.stdout.write(format_message(msg) + "\n")
        sys.stdout.flush()  # one line at a time, also when piped

    stop = asyncio.Event()
    follower: StreamFollower | None = None

    def on_reconnect() -> None:
        if follower is not None:
            follower.resume_soon()

    nc = await _connect(url, stop, on_reconnect)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        js = nc.jetstream()
        found = await _stream_for(js, subject, stream, replay=replay)
        if found is None and replay:
            _note(f"stream {stream!r} does not exist on {url}")
            return 1
        if found is None:
            # Nothing keeps these messages: shown while connected, missed during an outage.
            await nc.subscribe(subject, cb=show)
            source = "live, not kept in any stream"
        else:
            name, last_seq = found
            follower = StreamFollower(js, name, subject, after=0 if replay else last_seq, show=show)
            await follower.start()
            source = f"stream {name} from the start" if replay else f"stream {name} from sequence {last_seq + 1}"
        await nc.flush()  # the server has our subscription once this returns
        _note(f"listening on {subject} ({source}) at {url}")
        await stop.wait()
    finally:
        stop.set()  # also on the way out after an error: the close is ours
        if follower is not None:
            await follower.stop()
        await nc.close()
    return 0


async def _stream_for(js: JetStreamContext, subject: str, stream: str, *, replay: bool) -> tuple[str, int] | None:
    """The stream to follow and its last sequence now, or None when no stream keeps `subject`."""
    try:
        name = stream if replay else await js.find_stream_name_by_subject(subject)
        info = await js.stream_info(name)
    except NotFoundError:
        return None
    return name, info.state.last_seq
