"""Search across the library and the discussions, as the caller may see them.

The caller's standing (memberships, staff roles, links sharing resources) and the
list of hidden communities are read now, for this query: a change of membership,
of a link or of a community's visibility applies to the next search at once."""

from __future__ import annotations

import asyncio
import hashlib

from weft_resources.domain.documents import Doc
from weft_resources.search.audience import SearchStanding
from weft_resources.search.engine import PageKey, SearchEngine
from weft_resources.search.query import ParsedText, SearchFilters
from weft_resources.usecases.context import ResourcesContext
from weft_shared.errors import BadRequest, Problem
from weft_shared.service.actor import Person
from weft_shared.service.cursors import decode_cursor, encode_cursor

MAX_TERMS = 32


class SearchUnavailable(Problem):
    status = 503


class Unsearchable(Problem):
    """A `q` that is well-formed text but nothing to search by: a 422 naming it, as for any refused field."""

    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail, errors=[{"field": "q", "message": detail}])


def parse_text(engine: SearchEngine, q: str) -> ParsedText:
    text = engine.queries.parse(q)
    if text.empty:
        raise Unsearchable("q has no words to search for")
    if text.size > MAX_TERMS:
        raise Unsearchable(f"q has more than {MAX_TERMS} words")
    return text


def _fingerprint(q: str, filters: SearchFilters) -> str:
    """Ties a cursor to its query: a cursor given with another query is refused."""
    raw = "\x1f".join(
        [q, filters.community_id or "", filters.kind or "", filters.tag or "", str(filters.include_archived)]
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


async def search_standing(ctx: ResourcesContext, person: Person) -> SearchStanding:
    standing = await ctx.storage.membership.standing(person.id)
    hidden = await ctx.storage.search_feed.hidden_communities()
    return SearchStanding(
        user_id=person.id,
        member_of=standing.member_of,
        staff_of=standing.staff_of,
        resource_links=frozenset((c, d) for d, linked in standing.linked.items() for c in linked),
        hidden=hidden,
    )


async def search(
    ctx: ResourcesContext,
    engine: SearchEngine,
    person: Person,
    q: str,
    filters: SearchFilters,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Doc], str | None]:
    text = parse_text(engine, q)
    fingerprint = _fingerprint(q, filters)
    key = decode_cursor(cursor, {"h": str, "s": float, "k": str, "o": int})
    if key is not None and (key["h"] != fingerprint or key["o"] < 0):
        raise BadRequest("cursor belongs to another search", field="cursor")
    after = None if key is None else PageKey(score=key["s"], key=key["k"], offset=key["o"])
    if not engine.index.ready:
        raise SearchUnavailable("search is starting: try again in a moment", headers={"Retry-After": "1"})
    standing = await search_standing(ctx, person)
    page = await asyncio.to_thread(engine.search, text, standing, filters, limit, after)
    known = await ctx.storage.search_feed.known_communities({f.hit.community_id for f in page.hits})
    items = [
        {
            "type": found.hit.doc_type,
            "id": found.hit.display["id"],
            "community_id": found.hit.community_id,
            "kind": found.hit.kind,
            "title": found.hit.display.get("label", ""),
            "snippet": found.snippet,
            "archived": found.hit.state == "archived",
            "draft": found.hit.state == "draft",
            "thread_id": found.hit.display.get("thread_id") if found.hit.doc_type == "reply" else None,
            "resource_id": found.hit.display.get("resource_id"),
        }
        for found in page.hits
        # A community the membership view does not know yet counts as hidden (usecases/access.py).
        if found.hit.community_id in known or found.hit.community_id in standing.member_of
    ]
    next_key = page.next_key
    next_cursor = (
        None
        if next_key is None
        else encode_cursor({"h": fingerprint, "s": next_key.score, "k": next_key.key, "o": next_key.offset})
    )
    return items, next_cursor
