"""Search: `GET /v1/search` across library items and discussions the caller may see."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from weft_resources.api.deps import Ctx, CurrentPerson, Cursor
from weft_resources.search.engine import SearchEngine
from weft_resources.search.query import SearchFilters
from weft_resources.usecases import search as search_usecase

router = APIRouter(prefix="/v1", tags=["search"])

SearchKind = Literal["file", "link", "note", "discussion", "question", "announcement", "comments", "reply"]


def search_engine(request: Request) -> SearchEngine:
    engine: SearchEngine = request.app.state.search_engine
    return engine


Engine = Annotated[SearchEngine, Depends(search_engine)]


class SearchHit(BaseModel):
    type: Literal["resource", "thread", "reply"]
    id: str
    community_id: str
    kind: str
    title: str  # the item's or thread's title (a reply's thread's)
    snippet: str  # HTML: the matched words in <mark>, everything else escaped
    archived: bool
    draft: bool
    thread_id: str | None  # a reply's thread
    resource_id: str | None  # the library item a comment thread (or its reply) is on


class SearchPage(BaseModel):
    items: list[SearchHit]
    next_cursor: str | None


# No control characters (a NUL included) in an id or a tag.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]+$"


@router.get("/search")
async def search(
    ctx: Ctx,
    engine: Engine,
    me: CurrentPerson,
    q: Annotated[str, Query(min_length=1, max_length=500, description='words and "quoted phrases"')],
    community_id: Annotated[str | None, Query(min_length=1, max_length=64, pattern=PRINTABLE)] = None,
    kind: Annotated[SearchKind | None, Query()] = None,
    tag: Annotated[str | None, Query(min_length=1, max_length=64, pattern=PRINTABLE)] = None,
    archived: Annotated[bool, Query(description="include archived library items")] = False,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchPage:
    """Library items, threads and replies the caller may see, best match first. Every
    word must match (English stemming: `falls` finds "falling"); a quoted phrase must
    match as a phrase; a title match ranks above a body match."""
    filters = SearchFilters(community_id=community_id, kind=kind, tag=tag, include_archived=archived)
    items, next_cursor = await search_usecase.search(ctx, engine, me, q, filters, limit=limit, cursor=cursor)
    return SearchPage(items=[SearchHit.model_validate(i) for i in items], next_cursor=next_cursor)
