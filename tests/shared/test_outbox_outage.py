"""While NATS is away, a committed write is answered at once and its messages wait in the
outbox; once NATS is back the sweeper publishes them. Found by the fault run (bench/chaos):
during a NATS restart every RSVP waited out the relay's publish timeout after its commit, and
the RSVPs queued behind it on the same occurrence waited too, until the gateway answered 504."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.shared.test_outbox import bump_and_announce
from tests.support.bus import stream_messages
from tests.support.isolated import isolated
from tests.support.waiting import eventually
from weft_cli.natsserver import start_nats
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.storage.unit_of_work import UnitOfWork

# Far beyond the test's own timeout: a relay that tries to publish while NATS is away hangs
# the test until pytest-timeout fails it.
PUBLISH_TIMEOUT = 3600.0


async def test_a_commit_while_nats_is_away_is_not_held_up_and_is_published_after(tmp_path: Path, database) -> None:  # type: ignore[no-untyped-def]
    nats = start_nats(tmp_path / "nats")
    try:
        async with isolated(nats.url, database.url, "outage") as env:
            outbox = Outbox(env.db)
            await outbox.create_indexes()
            await env.db.create_collection("counters")
            broker = create_broker(env.platform, client_name="test-outage")
            await broker.connect()
            relay = OutboxRelay(broker, env.platform, outbox, grace=timedelta(0), publish_timeout=PUBLISH_TIMEOUT)
            uow = UnitOfWork(env.client, outbox, MessageFactory(env.platform, "/test"), relay)
            try:
                nats.stop()

                async def noticed() -> bool:
                    return not broker.connection.is_connected

                await eventually(noticed, what="the client to notice NATS is gone")
                assert await bump_and_announce(uow, env.db, "ana") == 1  # committed and answered
                assert await outbox.pending_count() == 1  # the message waits in the outbox
                assert await relay.sweep() == 0  # nor does the sweeper wait on a server that is away

                nats.start()

                async def reconnected() -> bool:
                    return bool(broker.connection.is_connected)

                await eventually(reconnected, what="the client to reconnect")
                assert await relay.sweep() == 1
                subjects = f"{env.platform.subject_prefix}.>"
                messages = await stream_messages(env.platform.nats_url, subjects, stream=env.platform.stream_name)
                assert [(m.body["aggregate"], m.body["aggregateversion"]) for m in messages] == [("counters/c1", 1)]
                assert await outbox.pending_count() == 0
            finally:
                await broker.stop()
    finally:
        nats.stop()
