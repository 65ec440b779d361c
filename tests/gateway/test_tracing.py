"""W3C trace context: which traceparents are forwarded and which are replaced."""

from __future__ import annotations

import pytest

from weft_gateway.tracing import new_traceparent, trace_headers, valid_traceparent

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


def test_new_traceparents_are_valid_and_distinct() -> None:
    first, second = new_traceparent(), new_traceparent()
    assert valid_traceparent(first) and valid_traceparent(second)
    assert first.split("-")[1] != second.split("-")[1]


def test_a_valid_context_is_forwarded_with_its_state() -> None:
    assert trace_headers([GOOD], ["a=1", "b=2"]) == [("traceparent", GOOD), ("tracestate", "a=1,b=2")]


def test_an_invalid_or_repeated_context_starts_a_new_trace_without_state() -> None:
    for parents in ([], ["nonsense"], [GOOD, GOOD]):
        headers = trace_headers(parents, ["a=1"])
        assert [name for name, _ in headers] == ["traceparent"]
        assert valid_traceparent(headers[0][1]) and headers[0][1] != GOOD
