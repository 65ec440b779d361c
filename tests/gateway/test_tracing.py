"""W3C trace context: which traceparents are continued and which start a new trace."""

from __future__ import annotations

import pytest
from opentelemetry import trace

from weft_gateway.tracing import incoming_context, valid_traceparent

GOOD = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    "value",
    [
        GOOD,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
    ],
)
def test_valid_traceparents(value: str) -> None:
    assert valid_traceparent(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # zero parent id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # upper case
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # v00 has four fields
        "00-0af7651916cd43dd8448eb211c8031-b7ad6b7169203331-01",  # short trace id
    ],
)
def test_invalid_traceparents(value: str) -> None:
    assert not valid_traceparent(value)


def test_a_valid_context_is_continued_with_its_state() -> None:
    span = trace.get_current_span(incoming_context([GOOD], ["a=1", "b=2"])).get_span_context()
    assert (f"{span.trace_id:032x}", f"{span.span_id:016x}") == (GOOD.split("-")[1], GOOD.split("-")[2])
    assert span.is_remote and span.trace_state.to_header() == "a=1,b=2"


def test_an_invalid_or_repeated_context_starts_a_new_trace() -> None:
    for parents in ([], ["nonsense"], [GOOD, GOOD]):
        assert not trace.get_current_span(incoming_context(parents, ["a=1"])).get_span_context().is_valid
