"""One trace from the gateway through a service, across NATS, into every consumer.

The services of the session suite run as separate processes, whose spans a test cannot
read; so this test runs the gateway and the four data services in-process (their real
apps and lifespans, served by uvicorn on free ports, on a stream, subject prefix and
databases of their own on the session's NATS and database), and reads their spans
from the SDK's in-memory exporter.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from nats.aio.client import Client as NatsClient
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanKind

from tests.support.api import create_community, new_person
from tests.support.bus import stream_messages
from tests.support.isolated import isolated
from tests.support.waiting import eventually
from weft_cli.ladder import DatabaseHandle
from weft_cli.natsserver import NatsHandle
from weft_events.app import create_app as events_app
from weft_events.settings import EventsSettings
from weft_gateway.app import Gateway
from weft_gateway.app import create_app as gateway_app
from weft_gateway.settings import GatewaySettings
from weft_membership.app import create_app as membership_app
from weft_membership.settings import MembershipSettings
from weft_notifications.app import create_app as notifications_app
from weft_notifications.settings import NotificationsSettings
from weft_resources.app import create_app as resources_app
from weft_resources.settings import ResourcesSettings
from weft_shared import tracing
from weft_shared.contracts.envelope import Envelope, wrap
from weft_shared.contracts.membership import MemberJoined
from weft_shared.contracts.subjects import subject_for
from weft_shared.messaging.broker import create_broker
from weft_shared.messaging.consumer import Delivery, MessageDispatcher, ProcessedMessages, envelope_bytes
from weft_shared.messaging.outbox import MessageFactory, Outbox, OutboxRelay
from weft_shared.observability import JsonFormatter, TextFormatter
from weft_shared.settings import PlatformSettings
from weft_shared.storage.unit_of_work import Transaction, UnitOfWork

CONSUMERS = ("events", "notifications", "resources")
INCOMING_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INCOMING = f"00-{INCOMING_TRACE}-00f067aa0ba902b7-01"


@dataclass
class Stack:
    client: httpx.AsyncClient
    spans: InMemorySpanExporter
    platform: PlatformSettings
    processor: SimpleSpanProcessor

    def trace(self, trace_id: str) -> list[ReadableSpan]:
        return [
            s for s in self.spans.get_finished_spans() if s.context is not None and _hex(s.context.trace_id) == trace_id
        ]


def _hex(trace_id: int) -> str:
    return f"{trace_id:032x}"


def _service(span: ReadableSpan) -> str:
    return str(span.resource.attributes["service.name"])


def _message_id(span: ReadableSpan) -> str:
    return str((span.attributes or {}).get("messaging.message.id"))


async def _serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    await eventually(lambda: _started(server, task), timeout=30, what="an in-process service to start")
    return server, task, f"http://127.0.0.1:{sock.getsockname()[1]}"


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        raise AssertionError(f"service stopped while starting: {task.exception()!r}")
    return server.started


@pytest.fixture(scope="module")
async def stack(
    nats_server: NatsHandle, database: DatabaseHandle, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    """One stack for this module's tests (starting five apps takes seconds); each test reads
    only its own spans, by trace or message id."""
    exporter = InMemorySpanExporter()
    async with isolated(nats_server.url, database.url, "traces") as iso:
        platform = iso.platform.model_copy(update={"log_json": False})
        run = secrets.token_hex(3)
        names = {name: f"traces_{name}_{run}" for name in ("membership", *CONSUMERS)}
        common: dict[str, Any] = {"platform": platform, "consumer_start": "new"}
        apps = {
            "membership": membership_app(MembershipSettings(**common, database=names["membership"])),
            "events": events_app(EventsSettings(**common, database=names["events"])),
            # Nothing here sends mail: the address is one nothing answers on.
            "notifications": notifications_app(
                NotificationsSettings(**common, database=names["notifications"], smtp_port=9)
            ),
            "resources": resources_app(
                ResourcesSettings(
                    **common, database=names["resources"], search_index_dir=tmp_path_factory.mktemp("search")
                )
            ),
        }
        servers: list[tuple[uvicorn.Server, asyncio.Task[None], str]] = []
        try:
            urls: dict[str, str] = {}
            for name, app in apps.items():
                servers.append(await _serve(app))
                urls[f"{name}_url"] = servers[-1][2]
            gateway = gateway_app(GatewaySettings(platform=platform, openapi_cache_seconds=0, **urls))
            servers.append(await _serve(gateway))
            assert isinstance(gateway, Gateway)
            operations = gateway.proxy.operations

            async def knows_the_templates() -> bool:  # from every service's document
                return (await operations.current()).match("/v1/communities/c1") is not None

            await eventually(knows_the_templates, what="the gateway to read the services' OpenAPI documents")
            async with httpx.AsyncClient(base_url=servers[-1][2], timeout=30) as client:
                yield Stack(client, exporter, platform, SimpleSpanProcessor(exporter))
        finally:
            for server, _, _ in reversed(servers):
                server.should_exit = True
            for _, task, _ in reversed(servers):
                await task
            for database_name in names.values():
                await iso.client.drop_database(database_name)


@pytest.fixture
def traced(stack: Stack) -> Iterator[Stack]:
    """The stack, recording spans while the test runs (outside, its processes export nothing)."""
    stack.spans.clear()
    with tracing.spans_also_go_to(stack.processor):
        yield stack


async def test_one_trace_runs_from_the_gateway_through_nats_into_every_consumer(traced: Stack) -> None:
    owner = new_person("tracer")
    response = await traced.client.post(
        "/v1/communities",
        json={"name": f"Traced {secrets.token_hex(3)}", "purpose": "Follow one request"},
        headers={**owner.headers, "traceparent": INCOMING, "tracestate": "vendor=opaque"},
    )
    assert response.status_code == 201, response.text

    # The answer came after the relay's fast path published: every PRODUCER span has ended.
    published = {
        str(s.attributes["messaging.message.id"])
        for s in traced.trace(INCOMING_TRACE)
        if s.kind is SpanKind.PRODUCER and s.attributes is not None
    }
    assert len(published) == 3  # the owner's profile, the community, the owner's membership

    async def all_consumed() -> dict[str, list[ReadableSpan]]:
        spans = [s for s in traced.trace(INCOMING_TRACE) if s.kind is SpanKind.CONSUMER and s.attributes is not None]
        by_service = {name: [s for s in spans if _service(s) == name] for name in CONSUMERS}
        done = all({_message_id(s) for s in by_service[name]} == published for name in CONSUMERS)
        return by_service if done else {}

    consumers = await eventually(
        all_consumed, what="a CONSUMER span for each message in events, notifications and resources"
    )
    spans = traced.trace(INCOMING_TRACE)
    by_id = {s.context.span_id: s for s in spans if s.context is not None}

    def parent(span: ReadableSpan) -> ReadableSpan | None:
        return by_id.get(span.parent.span_id) if span.parent is not None else None

    def one(service: str, kind: SpanKind, name: str) -> ReadableSpan:
        found = [s for s in spans if _service(s) == service and s.kind is kind and s.name == name]
        assert len(found) == 1, [(_service(s), s.kind, s.name) for s in spans]
        return found[0]

    # The gateway continues the caller's trace: its SERVER span's parent is the incoming one.
    edge = one("gateway", SpanKind.SERVER, "POST /v1/communities")
    assert edge.parent is not None and edge.parent.is_remote and f"{edge.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert edge.attributes is not None and edge.attributes["http.response.status_code"] == 201
    upstream = one("gateway", SpanKind.CLIENT, "POST /v1/communities")
    assert parent(upstream) is edge
    served = one("membership", SpanKind.SERVER, "POST /v1/communities")
    assert parent(served) is upstream and served.context is not None
    assert served.context.trace_state.to_header() == "vendor=opaque"
    # The use case's transactions (the caller's profile, then the community) and what they announced.
    units = [s for s in spans if _service(s) == "membership" and s.name == "unit of work"]
    assert units and all(parent(u) is served for u in units)
    producers = [s for s in spans if _service(s) == "membership" and s.kind is SpanKind.PRODUCER]
    assert producers and all(parent(p) in units for p in producers)
    assert "send org.weft.community.created.v1" in {p.name for p in producers}, [p.name for p in producers]
    for producer in producers:
        assert producer.attributes is not None
        assert producer.attributes["messaging.system"] == "nats"
        assert str(producer.attributes["messaging.destination.name"]).startswith(traced.platform.subject_prefix + ".")

    # Every consuming service handles each published message in a CONSUMER span child of its PRODUCER.
    for service, handled in consumers.items():
        for span in handled:
            producer = parent(span)
            assert producer is not None and producer.kind is SpanKind.PRODUCER, (service, span.name)
            assert span.attributes is not None and producer.attributes is not None
            assert span.attributes["messaging.system"] == "nats"
            assert span.attributes["messaging.consumer.group.name"] == service
            assert span.attributes["messaging.message.id"] == producer.attributes["messaging.message.id"]
            assert span.attributes["messaging.destination.name"] == producer.attributes["messaging.destination.name"]
            assert span.name == producer.name.replace("send ", "process ", 1)
    # Their handlers' transactions are in the trace too, under their CONSUMER spans.
    handled_units = {
        _service(s) for s in spans if s.name == "unit of work" and (p := parent(s)) and p.kind is SpanKind.CONSUMER
    }
    assert set(CONSUMERS) <= handled_units, handled_units
    # Span names are templates, never paths (paths can carry ids and tokens).
    assert all("/v1/" not in s.name or s.name.endswith("/v1/communities") for s in spans), [s.name for s in spans]


async def test_templates_name_the_spans_and_an_invalid_traceparent_starts_a_new_trace(traced: Stack) -> None:
    owner = new_person("tracer")
    community = await create_community(traced.client, owner)
    traced.spans.clear()
    response = await traced.client.get(
        f"/v1/communities/{community['id']}", headers={**owner.headers, "traceparent": "00-nonsense-01"}
    )
    assert response.status_code == 200, response.text
    [edge] = [s for s in traced.spans.get_finished_spans() if _service(s) == "gateway" and s.kind is SpanKind.SERVER]
    assert edge.parent is None and edge.name == "GET /v1/communities/{community_id}"
    assert edge.context is not None
    served = [s for s in traced.trace(_hex(edge.context.trace_id)) if _service(s) == "membership"]
    assert [s.name for s in served if s.kind is SpanKind.SERVER] == ["GET /v1/communities/{community_id}"]


async def test_a_message_without_trace_headers_is_handled_in_a_new_trace(
    traced: Stack, nats_server: NatsHandle
) -> None:
    owner = new_person("tracer")
    community = await create_community(traced.client, owner)
    stored: dict[str, Any] = {}

    # Take a real message's body off the bus and send it again, as a new message and without headers.
    nc = NatsClient()
    await nc.connect(nats_server.url)
    try:
        js = nc.jetstream()
        info = await js.stream_info(traced.platform.stream_name)
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            message = await js.get_msg(traced.platform.stream_name, seq)
            body = orjson.loads(message.data or b"{}")
            if (
                body.get("type") == "org.weft.community.created.v1"
                and body["data"]["community"]["id"] == community["id"]
            ):
                stored = {"subject": message.subject, "body": body}
        assert stored, "the community's created message is on the stream"
        message_id = str(uuid.uuid4())
        await js.publish(
            stored["subject"], orjson.dumps({**stored["body"], "id": message_id}), stream=traced.platform.stream_name
        )
    finally:
        await nc.close()

    async def handled_everywhere() -> list[ReadableSpan]:
        spans = [
            s
            for s in traced.spans.get_finished_spans()
            if s.kind is SpanKind.CONSUMER
            and s.attributes is not None
            and s.attributes["messaging.message.id"] == message_id
        ]
        return spans if {_service(s) for s in spans} == set(CONSUMERS) else []

    consumed = await eventually(handled_everywhere, what="the header-less message in every consumer")
    assert all(s.parent is None for s in consumed)  # each a root: there was no context to continue
    assert all(s.status.is_ok for s in consumed)


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def otlp_receiver() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def test_spans_go_to_an_otlp_collector_when_one_is_configured(
    otlp_receiver: tuple[str, list[tuple[str, bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = otlp_receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    service = f"otlp-check-{secrets.token_hex(3)}"
    with tracing.tracer_for(service).start_as_current_span("checked") as span:
        trace_id = span.get_span_context().trace_id
    tracing.flush()
    assert [path for path, _ in received] == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(received[0][1])
    [resource_spans] = request.resource_spans
    names = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert names["service.name"] == service
    [exported] = [s for scope in resource_spans.scope_spans for s in scope.spans]
    assert exported.name == "checked" and int.from_bytes(exported.trace_id, "big") == trace_id


@pytest.mark.parametrize(
    ("variable", "value"), [("OTEL_TRACES_EXPORTER", "zipkin"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]
)
def test_unsupported_export_settings_are_refused(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=variable):
        tracing.tracer_for(f"refused-{secrets.token_hex(3)}")


def test_without_export_settings_spans_carry_ids_and_record_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(variable, raising=False)
    assert tracing._exporters_from_env() == []
    tracer = tracing.tracer_for(f"quiet-{secrets.token_hex(3)}")
    with tracer.start_as_current_span("root") as root:
        carrier = tracing.current_carrier()
        assert tracing.current_trace_id() == _hex(root.get_span_context().trace_id)
    assert not root.is_recording() and root.get_span_context().is_valid
    # A new trace is sampled (whoever exports downstream decides), its id random (W3C level 2).
    assert carrier["traceparent"].endswith("-03")
    # A caller's context is continued with the caller's flags, under a span id of its own.
    unsampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"
    with tracer.start_as_current_span("child", context=tracing.extract({"traceparent": unsampled})):
        forwarded = tracing.current_carrier()["traceparent"]
    assert forwarded.startswith("00-0af7651916cd43dd8448eb211c80319c-") and forwarded.endswith("-00")
    assert forwarded != unsampled


async def test_retries_redeliveries_and_dead_lettering_are_events_of_the_consumer_spans(
    nats_server: NatsHandle, database: DatabaseHandle
) -> None:
    exporter = InMemorySpanExporter()
    tracer = tracing.tracer_for("retrying-consumer")
    async with isolated(nats_server.url, database.url, "traces_retry") as iso:
        broker = create_broker(iso.platform, client_name="traces-retry")
        uow = UnitOfWork(iso.client, Outbox(iso.db), MessageFactory(iso.platform, "/test"), tracer=tracer)
        dispatcher = MessageDispatcher(
            broker,
            iso.platform,
            ProcessedMessages(iso.db.processed),
            uow,
            max_deliver=2,
            base_delay=0.05,
            tracer=tracer,
        )

        @dispatcher.on(MemberJoined)
        async def always_fails(envelope: Envelope, message: MemberJoined, delivery: Delivery) -> None:
            raise RuntimeError("the handler cannot cope")

        consumer = dispatcher.subscribe(durable=f"traces_{secrets.token_hex(3)}", fetch_timeout=1.0)
        await broker.start()
        await consumer.start()
        envelope = wrap(
            MemberJoined(community_id="c1", user_id="u1", role="member", via="open", community_visibility="public"),
            source="/test",
            subject="c1",
            community_id="c1",
        )
        with tracing.spans_also_go_to(SimpleSpanProcessor(exporter)), tracer.start_as_current_span("publisher"):
            try:
                headers = dict(tracing.inject({"Nats-Msg-Id": envelope.id}))
                subject = subject_for(iso.platform.subject_prefix, MemberJoined, "c1")
                await broker.publish(
                    envelope_bytes(envelope), subject, headers=headers, stream=iso.platform.stream_name
                )

                async def two_attempts() -> list[ReadableSpan]:
                    spans = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
                    return spans if len(spans) == 2 else []

                first, second = await eventually(two_attempts, what="two attempts at the failing message")
            finally:
                await consumer.stop()
                await broker.stop()
    publisher = next(s for s in exporter.get_finished_spans() if s.name == "publisher")
    assert first.parent is not None and second.parent is not None
    assert publisher.context is not None
    assert first.parent.span_id == second.parent.span_id == publisher.context.span_id
    assert [e.name for e in first.events] == ["exception", "retry scheduled"]
    assert [e.name for e in second.events] == ["redelivery", "exception", "dead-lettered"]
    assert not first.status.is_ok and not second.status.is_ok


async def test_a_record_the_sweeper_publishes_after_a_crash_continues_its_use_cases_trace(
    nats_server: NatsHandle, database: DatabaseHandle
) -> None:
    exporter = InMemorySpanExporter()
    tracer = tracing.tracer_for("crashing-writer")
    async with isolated(nats_server.url, database.url, "traces_sweep") as iso:
        outbox = Outbox(iso.db)
        await outbox.create_indexes()
        # No relay: the process "crashed" after the commit, before the fast path published.
        uow = UnitOfWork(iso.client, outbox, MessageFactory(iso.platform, "/test"), tracer=tracer)

        async def announce(tx: Transaction) -> None:
            tx.announce(_joined(), aggregate="communities/c1", community_id="c1")

        with tracing.spans_also_go_to(SimpleSpanProcessor(exporter)):
            with tracer.start_as_current_span("use case"):
                await uow.run(announce)
            broker = create_broker(iso.platform, client_name="traces-sweeper")
            await broker.connect()
            try:
                relay = OutboxRelay(broker, iso.platform, outbox, grace=timedelta(0), tracer=tracer)
                assert await relay.sweep() == 1
            finally:
                await broker.stop()
        [published] = await stream_messages(
            nats_server.url, f"{iso.platform.subject_prefix}.>", stream=iso.platform.stream_name
        )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    unit, producer = spans["unit of work"], spans["send org.weft.member.joined.v1"]
    assert unit.context is not None and producer.context is not None and producer.parent is not None
    assert producer.kind is SpanKind.PRODUCER and producer.parent.span_id == unit.context.span_id
    assert producer.context.trace_id == unit.context.trace_id
    # The message carries the PRODUCER span's context, next to its dedupe id.
    sent = trace.set_span_in_context(NonRecordingSpan(producer.context))
    assert published.headers["traceparent"] == tracing.inject({}, sent)["traceparent"]
    assert published.headers["Nats-Msg-Id"] == published.body["id"]


def _joined() -> MemberJoined:
    return MemberJoined(community_id="c1", user_id="u1", role="member", via="open", community_visibility="public")


def test_log_lines_name_the_trace_they_were_written_in() -> None:
    record = logging.LogRecord("weft.test", logging.INFO, __file__, 1, "inside", None, None)
    tracer = tracing.tracer_for(f"logging-{secrets.token_hex(3)}")
    with tracer.start_as_current_span("work") as span:
        json_line = orjson.loads(JsonFormatter("svc").format(record))
        text_line = TextFormatter("svc").format(record)
    trace_id = _hex(span.get_span_context().trace_id)
    assert json_line["trace_id"] == trace_id
    assert f"(trace {trace_id})" in text_line
    assert "trace_id" not in orjson.loads(JsonFormatter("svc").format(record))  # outside any span
