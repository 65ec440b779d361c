"""Reading the XML inside uploaded office documents without trusting it.

Office XML never needs a DTD, so any document type declaration is refused before
the parser reads one entity: that is what stops "billion laughs" (nested entity
expansion) and external entities (reading local files or URLs), the defusedxml
rules, with nothing but the standard library's expat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from xml.parsers import expat


class UnsafeXml(ValueError):
    """The XML declares a DTD or entities, or is not well-formed."""


def _refuse_dtd(*_args: object) -> None:
    raise UnsafeXml("it declares a DTD (document type declaration), which office documents never need")


def _refuse_entity(*_args: object) -> Any:
    raise UnsafeXml("it declares or references an entity, which office documents never need")


def _parser() -> expat.XMLParserType:
    parser = expat.ParserCreate(namespace_separator="}")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    return parser


def _run(parser: expat.XMLParserType, chunks: Iterable[bytes]) -> None:
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise UnsafeXml(f"it is not well-formed XML ({exc})") from None


def parse_xml_attributes(data: bytes) -> list[tuple[str, dict[str, str]]]:
    """Every element's (namespace}tag, attributes), in document order."""
    found: list[tuple[str, dict[str, str]]] = []
    parser = _parser()
    parser.StartElementHandler = lambda tag, attrs: found.append((tag, attrs))
    _run(parser, [data])
    return found


class TextLimitReached(Exception):
    """Raised inside the parser to stop reading once enough text has been gathered."""


def xml_text(
    chunks: Iterable[bytes],
    *,
    text_tags: Callable[[str], bool],
    break_tags: Callable[[str], bool],
    out: list[str],
    budget: list[int],
) -> None:
    """Append the character data inside elements `text_tags` accepts to `out`, a newline
    after each element `break_tags` accepts, until `budget[0]` characters are used up."""
    depth = 0

    def start(tag: str, _attrs: dict[str, str]) -> None:
        nonlocal depth
        if text_tags(tag):
            depth += 1

    def end(tag: str) -> None:
        nonlocal depth
        if text_tags(tag):
            depth -= 1
        if break_tags(tag) and out and not out[-1].endswith("\n"):
            out.append("\n")

    def data(text: str) -> None:
        if depth <= 0:
            return
        if len(text) >= budget[0]:
            out.append(text[: budget[0]])
            budget[0] = 0
            raise TextLimitReached
        out.append(text)
        budget[0] -= len(text)

    parser = _parser()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    parser.buffer_text = True
    _run(parser, chunks)
