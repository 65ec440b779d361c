"""W3C Trace Context (`traceparent` / `tracestate`) at the edge.

The gateway records no spans itself, so a valid incoming context is forwarded
unchanged; otherwise the gateway starts a trace so every service's logs for one
request share a trace id.
"""

from __future__ import annotations

import random
import re

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


def new_traceparent() -> str:
    # Ids need to be unique, not secret, so the cheap PRNG will do (as OpenTelemetry's SDK does);
    # `or 1` keeps them off the all-zero value the spec reserves as invalid.
    trace_id = random.getrandbits(128) or 1
    parent_id = random.getrandbits(64) or 1
    # Sampled flag set: the gateway is the head of the trace, and nothing upstream of it decided otherwise.
    return f"00-{trace_id:032x}-{parent_id:016x}-01"


def trace_headers(traceparents: list[str], tracestates: list[str]) -> list[tuple[str, str]]:
    """The trace headers to send upstream, given the incoming header values."""
    if len(traceparents) == 1 and valid_traceparent(traceparents[0]):
        out = [("traceparent", traceparents[0])]
        # tracestate is only meaningful alongside the traceparent it came with.
        state = ",".join(tracestates)
        if state and len(state) <= _MAX_TRACESTATE:
            out.append(("tracestate", state))
        return out
    return [("traceparent", new_traceparent())]
