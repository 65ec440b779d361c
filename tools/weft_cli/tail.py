"""`weft tail`: print messages from NATS as they pass, one line each."""

from __future__ import annotations

import asyncio
import signal
import sys

import nats
import orjson
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy
from nats.js.errors import NotFoundError


def format_message(msg: Msg) -> str:
    """`<subject> <compact JSON body>`; a body that is not JSON is shown as text."""
    try:
        body = orjson.dumps(orjson.loads(msg.data)).decode()
    except orjson.JSONDecodeError:
        body = msg.data.decode("utf-8", errors="replace")
    return f"{msg.subject} {body}"


def _note(message: str) -> None:
    print(f"weft tail: {message}", file=sys.stderr, flush=True)


async def _connect(url: str, stopping: asyncio.Event) -> NATS:
    """Fail fast if NATS is not there at first; once connected, ride out restarts.

    `stopping` is set once we were told to stop: closing the connection then is
    no outage, so nothing is said about it.
    """

    async def on_error(exc: Exception) -> None:
        pass  # the callbacks below say what matters, without nats-py's tracebacks

    async def on_disconnect() -> None:
        if not stopping.is_set():
            _note("connection lost, reconnecting ...")

    async def on_reconnect() -> None:
        _note("reconnected")

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
        reconnected_cb=on_reconnect,
    )


async def tail(url: str, subject: str, *, replay: bool, stream: str) -> int:
    async def show(msg: Msg) -> None:
        sys.stdout.write(format_message(msg) + "\n")
        sys.stdout.flush()  # one line at a time, also when piped

    stop = asyncio.Event()
    nc = await _connect(url, stop)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        if replay:
            try:
                # Ordered consumer: ephemeral, in order, never acked; nothing left on the server after exit.
                await nc.jetstream().subscribe(
                    subject,
                    stream=stream,
                    cb=show,
                    ordered_consumer=True,
                    deliver_policy=DeliverPolicy.ALL,
                )
            except NotFoundError:
                _note(f"stream {stream!r} does not exist on {url}")
                return 1
        else:
            await nc.subscribe(subject, cb=show)
        await nc.flush()  # the server has our subscription once this returns
        source = f"stream {stream} from the start" if replay else "live"
        _note(f"listening on {subject} ({source}) at {url}")
        await stop.wait()
    finally:
        stop.set()  # also on the way out after an error: the close is ours
        await nc.close()
    return 0
