"""`OneLine` and `MultiLine`: the constraints of every text field a client sends,
in every service, e.g. `Title = Annotated[str, OneLine(min_length=1, max_length=200)]`.

Like pydantic's `StringConstraints` (whitespace around the text is stripped;
lengths, a pattern, lower-casing), plus one rule: control characters (C0, DEL,
C1) are refused with a 422 naming the field. A NUL would be stored and handed to
every reader, and a line break in a name or title breaks line-based formats
(iCalendar, CSV, logs). Multi-line prose (descriptions, messages) may hold
newlines and tabs, and its CRLF line ends are read as LF.

The rule is in the JSON schema too (as the `pattern`, unless the field has a
stricter pattern of its own), so clients and schema-driven test tools know what
is accepted: the schema's pattern also leaves out whitespace at either end, which
is stripped, so a string that matches the schema is accepted as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# Every C0 control, DEL and every C1 control; the multi-line set spares TAB and LF.
ANY_CONTROL = r"\x00-\x1f\x7f-\x9f"
CONTROL_BUT_TAB_LF = r"\x00-\x08\x0b-\x1f\x7f-\x9f"


@dataclass(frozen=True, slots=True)
class _Text:
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # a field's own pattern must itself exclude control characters
    to_lower: bool = False

    multi_line: ClassVar[bool]
    refused: ClassVar[str]
    what: ClassVar[str]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        found = re.compile(f"[{self.refused}]").search
        multi_line, what = self.multi_line, self.what

        # Before the string schema: on the text as sent (stripping would hide a trailing
        # newline or NEL), and the string schema keeps its own messages for lengths.
        def refuse_controls(value: Any) -> Any:
            if not isinstance(value, str):
                return value  # the string schema refuses it
            if multi_line:
                value = value.replace("\r\n", "\n")
            hit = found(value)
            if hit is not None:
                raise PydanticCustomError(
                    "control_character",
                    "must not contain {what} (found {code} at position {at})",
                    {"what": what, "code": f"U+{ord(hit.group()):04X}", "at": hit.start()},
                )
            return value

        text = core_schema.str_schema(
            strip_whitespace=True,
            min_length=self.min_length,
            max_length=self.max_length,
            pattern=self.pattern,
            to_lower=self.to_lower or None,
        )
        return core_schema.no_info_before_validator_function(refuse_controls, text)

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        # No controls, and no whitespace at either end: stripping then changes nothing,
        # so the lengths in the schema are exact and whatever matches is accepted.
        edge, inner = f"[^\\s{self.refused}]", f"[^{self.refused}]"
        json_schema.setdefault("pattern", f"^({edge}({inner}*{edge})?)?$")
        return json_schema


@dataclass(frozen=True, slots=True)
class OneLine(_Text):
    """Names, titles, places, identifiers: no line breaks, tabs or other controls."""

    multi_line: ClassVar[bool] = False
    refused: ClassVar[str] = ANY_CONTROL
    what: ClassVar[str] = "line breaks or control characters"


@dataclass(frozen=True, slots=True)
class MultiLine(_Text):
    """Prose: newlines and tabs allowed, other controls refused."""

    multi_line: ClassVar[bool] = True
    refused: ClassVar[str] = CONTROL_BUT_TAB_LF
    what: ClassVar[str] = "control characters other than newline and tab"
