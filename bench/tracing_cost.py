"""What tracing costs a request when nothing exports spans (the default).

Times, in this process, the spans one proxied request makes at the gateway (SERVER +
CLIENT, the context injected into headers) with: OpenTelemetry's no-op tracer (ids are
not even made); Weft's default (`weft_shared.tracing.tracer_for` with no exporter:
non-recording spans with ids); the SDK recording spans that nothing reads; and the SDK
with `OTEL_TRACES_SAMPLER=always_off`. Prints microseconds per request for each, best of
`--rounds` (the machine may be shared).

    .venv/bin/python bench/tracing_cost.py [--requests 50000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import time

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NoOpTracer, SpanKind, Tracer

from weft_shared import tracing


def per_request_us(tracer: Tracer, requests: int) -> float:
    began = time.perf_counter()
    for _ in range(requests):
        with (
            tracer.start_as_current_span("POST /v1/communities", kind=SpanKind.SERVER),
            tracer.start_as_current_span("POST /v1/communities", kind=SpanKind.CLIENT),
        ):
            tracing.inject({})
    return (time.perf_counter() - began) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for variable in ("OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        os.environ.pop(variable, None)
    resource = Resource.create({"service.name": "bench"})
    tracers = {
        "no-op tracer (no ids)": NoOpTracer(),
        "weft default (no export)": tracing.tracer_for("bench"),
        "SDK recording, unread": TracerProvider(resource=resource).get_tracer("bench"),
        "SDK always_off sampler": TracerProvider(resource=resource, sampler=ALWAYS_OFF).get_tracer("bench"),
    }
    best = dict.fromkeys(tracers, float("inf"))
    for _ in range(args.rounds):
        for name, tracer in tracers.items():  # interleaved, so a busy spell hits every variant
            best[name] = min(best[name], per_request_us(tracer, args.requests))
    print(f"requests per round: {args.requests}, rounds: {args.rounds}, load average: {os.getloadavg()[0]:.1f}")
    for name, us in best.items():
        print(f"{name:26} {us:7.2f} us per request (2 spans)")


if __name__ == "__main__":
    main()
