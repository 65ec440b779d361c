"""The shared input types every schema of every service uses: `Instant` for dates
and times (and the times inside cursors), `OneLine`/`MultiLine` for text, and the
millisecond clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ValidationError

from weft_shared.errors import BadRequest
from weft_shared.service.clock import now, to_millis
from weft_shared.service.cursors import decode_cursor, encode_cursor
from weft_shared.service.models import Strict
from weft_shared.service.text import MultiLine, OneLine
from weft_shared.service.times import Instant, parse_instant


class When(Strict):
    at: Instant | None = None


class Texts(Strict):
    title: Annotated[str, OneLine(min_length=1, max_length=20)] | None = None
    description: Annotated[str, MultiLine(max_length=50)] | None = None
    tags: list[Annotated[str, OneLine(max_length=10, pattern=r"^[a-z]+$")]] | None = None


def refusal(model: type[BaseModel], body: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    [error] = caught.value.errors()
    return error["loc"], error["msg"]


@pytest.mark.parametrize(
    "sent",
    [
        "0001-01-01T00:00:00+14:00",  # before year 1 in UTC: OverflowError on conversion
        "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
        "9999-12-31T20:00:00-14:00",
        "1899-12-31T23:59:59Z",
        "9001-01-01T00:00:00Z",
    ],
)
def test_extreme_years_are_refused_naming_the_field(sent: str) -> None:
    assert refusal(When, {"at": sent}) == (("at",), "must be between the years 1900 and 9000")


@pytest.mark.parametrize(
    "sent",
    [
        1_800_000_000,  # pydantic alone reads numbers as Unix times
        "1800000000",  # what a query parameter `from=1800000000` gives
        1.5,
        True,
        "2027-01-12T18:00:00",  # no offset: which instant is it?
        "2027-01-12",
        "next tuesday",
        "2027-01-12T18:00:00+14:00 ",
        {"$gt": ""},
        ["2027-01-12T18:00:00Z"],
    ],
)
def test_only_rfc3339_strings_with_an_offset_are_times(sent: object) -> None:
    loc, message = refusal(When, {"at": sent})
    assert loc == ("at",) and "RFC 3339" in message


def test_an_impossible_date_is_refused() -> None:
    loc, _ = refusal(When, {"at": "2027-02-30T10:00:00Z"})
    assert loc == ("at",)


def test_times_come_back_in_utc_to_the_millisecond() -> None:
    at = When.model_validate({"at": "2027-01-12T18:00:00.123456+01:00"}).at
    assert at == datetime(2027, 1, 12, 17, 0, 0, 123000, tzinfo=UTC)
    assert at is not None and at.utcoffset() == timedelta(0)
    assert When.model_validate({"at": "2027-01-12T18:00Z"}).at == datetime(2027, 1, 12, 18, 0, tzinfo=UTC)
    # The edges: years 1900 and 9000 in UTC.
    assert When.model_validate({"at": "1900-01-01T00:00:00-01:00"}).at == datetime(1900, 1, 1, 1, tzinfo=UTC)
    assert When.model_validate({"at": "9000-12-31T23:59:59.999Z"}).at == datetime(
        9000, 12, 31, 23, 59, 59, 999000, tzinfo=UTC
    )
    for over_the_edge in ("1900-01-01T00:00:00+14:00", "9000-12-31T23:59:59-14:00"):
        assert refusal(When, {"at": over_the_edge}) == (("at",), "must be between the years 1900 and 9000")
    # From JSON too, and the same value given as a datetime in code.
    assert When.model_validate_json('{"at": "2027-01-12T18:00:00Z"}').at == datetime(2027, 1, 12, 18, tzinfo=UTC)
    assert parse_instant(datetime(2027, 1, 12, 18, 0, 0, 999999, tzinfo=UTC)).microsecond == 999000


def test_the_json_schema_says_what_is_accepted() -> None:
    schema = When.model_json_schema()["properties"]["at"]["anyOf"][0]
    assert schema["type"] == "string" and schema["format"] == "date-time"
    pattern = re.compile(schema["pattern"])
    assert pattern.match("2027-01-12T18:00:00Z") and pattern.match("2027-01-12T18:00:00.123+01:00")
    for refused in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2027-01-12T18:00:00", "1800000000"):
        assert not pattern.match(refused), refused
    # Whatever the pattern allows is accepted, at the edges of the years it allows too.
    for edge in ("1901-01-01T00:00:00+23:59", "8999-12-31T23:59:59.999999-23:59"):
        assert pattern.match(edge) and When.model_validate({"at": edge}).at is not None
    assert not pattern.match("1900-01-01T00:00:00+14:00") and not pattern.match("9000-06-01T00:00:00Z")


@pytest.mark.parametrize("sent", ["\x00", "\n", "\r", "\t", "\x1b", "\x7f", "\x85", "\x9f"])
def test_one_line_text_refuses_every_control_character(sent: str) -> None:
    loc, message = refusal(Texts, {"title": f"Falls{sent}huddle"})
    assert loc == ("title",)
    assert message.startswith("must not contain line breaks or control characters")
    assert f"U+{ord(sent):04X}" in message


def test_a_trailing_line_break_is_refused_not_stripped_away() -> None:
    assert refusal(Texts, {"title": "Falls huddle\n"})[0] == ("title",)
    assert refusal(Texts, {"title": "Falls huddle\x85"})[0] == ("title",)  # NEL is whitespace to str.strip


@pytest.mark.parametrize("sent", ["\x00", "\r", "\x0b", "\x1b", "\x7f", "\x85"])
def test_multi_line_text_refuses_controls_but_newline_and_tab(sent: str) -> None:
    loc, message = refusal(Texts, {"description": f"one{sent}two"})
    assert loc == ("description",) and "other than newline and tab" in message


def test_multi_line_text_keeps_lines_and_tabs_and_reads_crlf_as_lf() -> None:
    texts = Texts.model_validate({"description": "  one\r\ntwo\n\tthree  "})
    assert texts.description == "one\ntwo\n\tthree"


def test_text_keeps_the_usual_constraints_and_their_messages() -> None:
    assert Texts.model_validate({"title": "  Falls huddle  "}).title == "Falls huddle"
    assert refusal(Texts, {"title": "   "}) == (("title",), "String should have at least 1 character")
    assert refusal(Texts, {"title": "x" * 21}) == (("title",), "String should have at most 20 characters")
    assert refusal(Texts, {"title": {"$ne": None}}) == (("title",), "Input should be a valid string")
    assert refusal(Texts, {"tags": ["ok", "a\x00"]})[0] == ("tags", 1)
    assert refusal(Texts, {"tags": ["Nope"]})[1].startswith("String should match pattern")
    # Text that is not a control character is text, whatever the script.
    assert Texts.model_validate({"title": "Ünïcödé — 护理 ✓"}).title == "Ünïcödé — 护理 ✓"


def test_the_json_schema_has_the_rule_as_a_pattern() -> None:
    properties = Texts.model_json_schema()["properties"]
    one_line = re.compile(properties["title"]["anyOf"][0]["pattern"])
    multi_line = re.compile(properties["description"]["anyOf"][0]["pattern"])
    assert one_line.match("Falls huddle") and not one_line.match("Falls\nhuddle") and not one_line.match("a\x00")
    assert multi_line.match("one\n\ttwo") and not multi_line.match("one\x00two")
    # Whitespace at the ends is stripped, so the schema leaves it out: its lengths are then exact.
    for padded in (" ", "  a", "a ", "\ta"):
        assert not one_line.match(padded) and not multi_line.match(padded), repr(padded)
    assert one_line.match("") and one_line.match("a") and one_line.match("a b")
    # A field with a pattern of its own keeps it (it must exclude controls itself).
    assert properties["tags"]["anyOf"][0]["items"]["pattern"] == "^[a-z]+$"


def test_cursor_times_are_instants() -> None:
    moment = datetime(2027, 1, 12, 18, 0, 0, 123000, tzinfo=UTC)
    cursor = encode_cursor({"starts_at": moment, "id": "e1"})
    assert decode_cursor(cursor, {"starts_at": datetime, "id": str}) == {"starts_at": moment, "id": "e1"}
    # Cursors written before: isoformat() strings, the same instants.
    legacy = encode_cursor({"starts_at": moment.isoformat(), "id": "e1"})
    assert decode_cursor(legacy, {"starts_at": datetime, "id": str}) == {"starts_at": moment, "id": "e1"}


@pytest.mark.parametrize(
    "key",
    [
        {"starts_at": "0001-01-01T00:00:00+14:00", "id": "e1"},
        {"starts_at": "9999-12-31T23:59:59-14:00", "id": "e1"},
        {"starts_at": "2027-01-12T18:00:00", "id": "e1"},
        {"starts_at": 1800000000, "id": "e1"},
        {"starts_at": None, "id": "e1"},
        {"starts_at": "2027-01-12T18:00:00Z", "id": 7},
        {"starts_at": "2027-01-12T18:00:00Z"},
        {"starts_at": "2027-01-12T18:00:00Z", "id": "e1", "more": 1},
    ],
)
def test_a_cursor_with_a_bad_time_or_shape_is_a_400_naming_cursor(key: dict[str, Any]) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_cursor(encode_cursor(key), {"starts_at": datetime, "id": str})
    assert caught.value.errors == [{"field": "cursor", "message": "cursor is malformed"}]


@pytest.mark.parametrize("cursor", ["!!!", "é", "eyJub3QiOiJpdCJ9", "W10", "bnVsbA", "/w", "a" * 600])
def test_garbage_cursors_are_a_400_naming_cursor(cursor: str) -> None:
    with pytest.raises(BadRequest):
        decode_cursor(cursor, {"user_id": str})


def test_a_boolean_is_not_an_integer_in_a_cursor() -> None:
    with pytest.raises(BadRequest):
        decode_cursor(encode_cursor({"n": True}), {"n": int})
    assert decode_cursor(encode_cursor({"n": 3}), {"n": int}) == {"n": 3}


def test_the_clock_keeps_milliseconds_as_bson_does() -> None:
    moment = now()
    assert moment.tzinfo is UTC and moment.microsecond % 1000 == 0
    assert to_millis(datetime(2027, 1, 1, 0, 0, 0, 123999, tzinfo=UTC)).microsecond == 123000
