"""W3C Trace Context (`traceparent` / `tracestate`) at the edge.

A valid incoming context is continued (the gateway's SERVER span is its child);
anything else starts a new trace. The services receive the context of the
gateway's CLIENT span for the upstream call.
"""

from __future__ import annotations

import re

from opentelemetry.context import Context

from weft_shared.tracing import extract

# version "-" trace-id "-" parent-id "-" flags; later versions may append "-..." fields.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?\Z")
_ZERO_TRACE = "0" * 32
_ZERO_PARENT = "0" * 16
# The spec asks vendors to propagate at least 512 characters; longer lists may be dropped.
_MAX_TRACESTATE = 512


def valid_traceparent(value: str) -> bool:
    m = _TRACEPARENT.match(value)
    if m is None:
        return False
    version, trace_id, parent_id, _flags, rest = m.groups()
    if version == "ff" or trace_id == _ZERO_TRACE or parent_id == _ZERO_PARENT:
        return False
    # Version 00 has exactly four fields; only future versions may carry more.
    return not (version == "00" and rest is not None)


def incoming_context(traceparents: list[str], tracestates: list[str]) -> Context:
    """The trace a request continues: the caller's, given one valid traceparent; else a new one
    (an empty context), so every service's spans and log lines for the request share a trace id."""
    if len(traceparents) == 1 and valid_traceparent(traceparents[0]):
        carrier = {"traceparent": traceparents[0]}
        # tracestate is only meaningful alongside the traceparent it came with.
        state = ",".join(tracestates)
        if state and len(state) <= _MAX_TRACESTATE:
            carrier["tracestate"] = state
        return extract(carrier)
    return Context()
