"""nats-server from the wheel: JetStream on, restartable in place."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
from nats.js.api import StreamConfig

from weft_cli.natsserver import NatsHandle, start_nats


async def test_jetstream_stores_and_returns_a_message(nats_server: NatsHandle) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="DEVSTACK_JS", subjects=["devstack.js.>"]))
        ack = await js.publish("devstack.js.hello", b'{"hello":"world"}')
        stored = await js.get_msg("DEVSTACK_JS", ack.seq)
        assert stored.data == b'{"hello":"world"}'
        await js.delete_stream("DEVSTACK_JS")
    finally:
        await nc.close()


async def test_restart_on_same_port_keeps_stream_and_clients_reconnect(
    tmp_path: Path,
) -> None:
    server = start_nats(tmp_path / "store")
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    nc = await nats.connect(
        server.url,
        reconnect_time_wait=0.2,
        max_reconnect_attempts=-1,
        reconnected_cb=on_reconnect,
    )
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="KEEP", subjects=["keep.>"]))
        for n in range(3):
            await js.publish(f"keep.{n}", str(n).encode())
        url, first_pid = server.url, server.pid

        await asyncio.to_thread(server.restart)

        assert server.url == url
        assert server.pid != first_pid
        # The client that was connected before the restart reconnects and carries on
        # (a publish in flight during the outage may be lost: that is what PubAcks are for).
        await asyncio.wait_for(reconnected.wait(), timeout=30)
        ack = await js.publish("keep.after", b"after")
        assert ack.seq == 4
        info = await js.stream_info("KEEP")
        assert info.state.messages == 4
    finally:
        await nc.close()
        server.stop()
    assert not server.running
