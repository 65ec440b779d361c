"""OpenTelemetry traces: one TracerProvider per process, W3C trace context in and out.

Every process gets a provider whose resource names it (`service.name`), so ids are
made and carried (HTTP headers, NATS headers, outbox records, log lines) whether or
not anything is exported. Export is opt-in, configured by the standard variables:

- `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none` (a comma list is allowed). When
  unset it is `otlp` if an OTLP endpoint is set, else `none` — the spec's default is
  `otlp`, but a process with nowhere to send spans should not try, and retry, a
  localhost collector.
- `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (and the other
  `OTEL_EXPORTER_OTLP_*` settings): read by the OTLP/HTTP (protobuf) exporter itself.
- `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG`: read by the SDK; default
  `parentbased_always_on`.

Without an exporter nothing is recorded: spans are non-recording ones that still get
ids, so the context is continued and propagated (and log lines name their trace) at a
fraction of a recorded span's cost (`bench/tracing_cost.py`). A new trace is marked
sampled, as the caller's flag is kept: whoever exports downstream decides.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util._decorator import _agnosticcontextmanager
from opentelemetry.util.types import Attributes

log = logging.getLogger("weft.tracing")

# W3C Trace Context only, whatever OTEL_PROPAGATORS says: it is what every hop of ours speaks.
_PROPAGATOR = TraceContextTextMapPropagator()
_providers: dict[str, TracerProvider] = {}


class _Listeners(SpanProcessor):
    """Span processors added after the providers were made (tests' in-memory exporters)."""

    def __init__(self) -> None:
        self.processors: list[SpanProcessor] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self.processors:
            processor.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self.processors:
            processor.on_end(span)


_listeners = _Listeners()


def _exporters_from_env() -> list[SpanExporter]:
    endpoint_set = bool(
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    names = os.environ.get("OTEL_TRACES_EXPORTER") or ("otlp" if endpoint_set else "none")
    exporters: list[SpanExporter] = []
    for name in (n.strip().lower() for n in names.split(",")):
        if name == "otlp":
            protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
            )
            if protocol != "http/protobuf":
                raise ValueError(f"OTEL_EXPORTER_OTLP_PROTOCOL {protocol!r} is not supported: use http/protobuf")
            # Imported only when used: it pulls in protobuf and requests.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter(service_name=None))
        elif name not in ("none", ""):
            raise ValueError(f"OTEL_TRACES_EXPORTER {name!r} is not supported: use otlp, console or none")
    return exporters


_NEW_TRACE_FLAGS = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)


class _UnexportedTracer(Tracer):
    """A process that exports nothing: spans with ids and no recording, unless a listener
    (a test's exporter) is attached, when the SDK's tracer records them."""

    _ids = RandomIdGenerator()

    def __init__(self, recording: Tracer) -> None:
        self._recording = recording

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace.Span:
        if _listeners.processors:
            return self._recording.start_span(
                name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
            )
        parent = trace.get_current_span(context).get_span_context()
        if parent.is_valid:
            span_context = SpanContext(
                parent.trace_id, self._ids.generate_span_id(), False, parent.trace_flags, parent.trace_state
            )
        else:
            # Flags as the SDK sets them on a trace it starts: sampled, and the id random (W3C level 2).
            span_context = SpanContext(
                self._ids.generate_trace_id(), self._ids.generate_span_id(), False, _NEW_TRACE_FLAGS
            )
        return NonRecordingSpan(span_context)

    @_agnosticcontextmanager
    def start_as_current_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace.Span]:
        span = self.start_span(
            name, context, kind, attributes, links, start_time, record_exception, set_status_on_exception
        )
        with trace.use_span(span, end_on_exit, record_exception, set_status_on_exception) as current:
            yield current


_tracers: dict[str, Tracer] = {}


def tracer_for(service: str) -> Tracer:
    """The tracer of `service`'s provider, made on first use (one per process in production;
    a test running several services in one process gets one per service)."""
    tracer = _tracers.get(service)
    if tracer is None:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        exporters = _exporters_from_env()
        for exporter in exporters:
            provider.add_span_processor(BatchSpanProcessor(exporter))
        provider.add_span_processor(_listeners)
        _providers[service] = provider
        recording = provider.get_tracer("weft")
        tracer = _tracers[service] = recording if exporters else _UnexportedTracer(recording)
    return tracer


def flush(timeout_millis: int = 5000) -> None:
    """Send what the exporters hold (a stopping process; the SDK also does it at exit)."""
    for provider in _providers.values():
        provider.force_flush(timeout_millis)


@contextmanager
def spans_also_go_to(processor: SpanProcessor) -> Iterator[None]:
    """Hand every span that ends, in every provider, to `processor` as well, while inside."""
    _listeners.processors.append(processor)
    try:
        yield
    finally:
        _listeners.processors.remove(processor)


def inject(carrier: MutableMapping[str, str], context: Context | None = None) -> MutableMapping[str, str]:
    """Write `traceparent` (and `tracestate`) of `context` (default: the current one) into `carrier`."""
    _PROPAGATOR.inject(carrier, context=context)
    return carrier


def current_carrier() -> dict[str, str]:
    """The current trace context as headers, to store with something sent later."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str] | None) -> Context:
    """The context `carrier` continues; an empty one (a new trace) without a valid traceparent."""
    if not carrier:
        return Context()
    return _PROPAGATOR.extract(carrier, context=Context())


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
