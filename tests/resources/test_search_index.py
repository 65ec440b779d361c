"""The search index on its own (real tantivy on a temporary folder): stemming,
phrases, ranking, filters, snippets, paging, the audience rule, and reopening
an index that is corrupt or of another schema version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from weft_resources.search import audience
from weft_resources.search.audience import SearchStanding
from weft_resources.search.documents import SearchDocument
from weft_resources.search.engine import SearchEngine, SearchPage
from weft_resources.search.index import LocalIndex, Removal
from weft_resources.search.query import SearchFilters


def item(
    id: str,
    title: str,
    body: str,
    *,
    community: str = "c1",
    visibility: str = "community",
    status: str = "published",
    kind: str = "note",
    tags: tuple[str, ...] = (),
    shared_with: tuple[str, ...] = (),
    created_by: str = "ana",
) -> SearchDocument:
    return SearchDocument(
        doc_type="resource",
        id=id,
        community_id=community,
        kind=kind,
        title=title,
        label=title,
        body=body,
        tags=tags,
        state=status,
        audience=audience.resource_audience(
            community_id=community,
            visibility=visibility,
            status=status,
            created_by=created_by,
            shared_with=shared_with,
        ),
    )


def standing(
    user: str = "ana",
    member_of: tuple[str, ...] = ("c1",),
    staff_of: tuple[str, ...] = (),
    links: tuple[tuple[str, str], ...] = (),
    hidden: tuple[str, ...] = (),
) -> SearchStanding:
    return SearchStanding(
        user_id=user,
        member_of=frozenset(member_of),
        staff_of=frozenset(staff_of),
        resource_links=frozenset(links),
        hidden=frozenset(hidden),
    )


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    local = LocalIndex(tmp_path / "index")
    assert local.open() is True  # new: to be built
    return local


def find(
    index: LocalIndex,
    q: str,
    who: SearchStanding | None = None,
    filters: SearchFilters | None = None,
    limit: int = 20,
) -> SearchPage:
    engine = SearchEngine(index)
    return engine.search(engine.queries.parse(q), who or standing(), filters or SearchFilters(), limit, None)


def ids(page: SearchPage) -> list[str]:
    return [h.hit.display["id"] for h in page.hits]


def test_stemming_phrases_and_title_above_body(index: LocalIndex) -> None:
    index.apply(
        [],
        [
            item("r1", "Night checks", "Residents falling at night in a care home need checks."),
            item("r2", "Falls prevention", "A toolkit for wards."),
            item("r3", "Home visits", "Take care on the stairs: a home with stairs."),
        ],
        None,
    )
    assert sorted(ids(find(index, "falls"))) == ["r1", "r2"]
    assert ids(find(index, "falls"))[0] == "r2"  # the title match ranks first
    assert ids(find(index, '"care home"')) == ["r1"]  # r3 has both words, not the phrase
    assert sorted(ids(find(index, "care home"))) == ["r1", "r3"]
    assert ids(find(index, "falling toolkit")) == ["r2"]  # every word must match: fall (title) + toolkit


def test_filters_by_community_kind_and_tag(index: LocalIndex) -> None:
    index.apply(
        [],
        [
            item("r1", "Falls audit", "x", community="c1", kind="file", tags=("Audit",)),
            item("r2", "Falls leaflet", "x", community="c1", kind="link", tags=("leaflet",)),
            item("r3", "Falls policy", "x", community="c2", kind="file", tags=("audit",)),
        ],
        None,
    )
    everyone = standing(member_of=("c1", "c2"))
    assert sorted(ids(find(index, "falls", everyone, SearchFilters(community_id="c1")))) == ["r1", "r2"]
    assert sorted(ids(find(index, "falls", everyone, SearchFilters(kind="file")))) == ["r1", "r3"]
    assert sorted(ids(find(index, "falls", everyone, SearchFilters(tag="audit")))) == ["r1", "r3"]
    assert ids(find(index, "falls", everyone, SearchFilters(community_id="c2", tag="AUDIT"))) == ["r3"]


def test_snippets_mark_the_words_and_escape_the_rest(index: LocalIndex) -> None:
    body = 'Café notes <script>alert("x")</script> on residents falling & getting up'
    index.apply([], [item("r1", "Notes", body)], None)
    (hit,) = find(index, "falls").hits
    assert "<mark>falling</mark>" in hit.snippet
    assert "&lt;script&gt;" in hit.snippet and "<script>" not in hit.snippet
    assert "&amp;" in hit.snippet and "Café" in hit.snippet
    assert hit.snippet.count("<mark>") == 1


def test_pages_follow_one_another_without_repeats(index: LocalIndex) -> None:
    index.apply([], [item(f"r{n:02}", f"Falls {'falls ' * (n % 5)}", "body") for n in range(25)], None)
    engine = SearchEngine(index)
    text = engine.queries.parse("falls")
    seen: list[str] = []
    after = None
    while True:
        page = engine.search(text, standing(), SearchFilters(), 10, after)
        seen.extend(h.hit.display["id"] for h in page.hits)
        if page.next_key is None:
            break
        after = page.next_key
    assert sorted(seen) == [f"r{n:02}" for n in range(25)]
    assert len(seen) == len(set(seen))


# The audience rule, caller by caller: c1 is the item's community (public), c2 is
# linked with c1 sharing resources, c3 is not linked, h is hidden and linked with c2.
CALLERS = {
    "outsider": standing(user="olu", member_of=("c3",)),
    "member": standing(user="ben", member_of=("c1",)),
    "partner": standing(user="pat", member_of=("c2",), links=(("c1", "c2"), ("h", "c2"))),
    "facilitator": standing(user="fay", member_of=("c1",), staff_of=("c1",)),
    "author": standing(user="ana", member_of=("c1",)),
    "banned": standing(user="bob", member_of=()),  # banned: no longer an active member
}


@pytest.mark.parametrize(
    ("visibility", "status", "shared_with", "seen_by"),
    [
        ("community", "published", (), {"member", "facilitator", "author"}),
        ("partners", "published", (), {"member", "partner", "facilitator", "author"}),
        ("network", "published", (), set(CALLERS)),
        ("community", "published", ("c2",), {"member", "partner", "facilitator", "author"}),
        ("community", "published", ("c3",), {"member", "facilitator", "author"}),  # c3 is not linked
        ("network", "draft", (), {"facilitator", "author"}),
    ],
)
def test_who_sees_an_item(
    index: LocalIndex, visibility: str, status: str, shared_with: tuple[str, ...], seen_by: set[str]
) -> None:
    index.apply([], [item("r1", "Falls", "x", visibility=visibility, status=status, shared_with=shared_with)], None)
    seen = {name for name, who in CALLERS.items() if ids(find(index, "falls", who)) == ["r1"]}
    assert seen == seen_by


def test_a_hidden_communitys_content_is_for_its_members_only(index: LocalIndex) -> None:
    index.apply(
        [],
        [
            item("h1", "Falls", "x", community="h", visibility="network"),
            item("h2", "Falls", "x", community="h", visibility="partners"),
            item("h3", "Falls", "x", community="h", shared_with=("c2",)),
        ],
        None,
    )
    partner = standing(user="pat", member_of=("c2",), links=(("h", "c2"),), hidden=("h",))
    outsider = standing(user="olu", member_of=("c3",), hidden=("h",))
    insider = standing(user="ivy", member_of=("h",), hidden=("h",))
    assert ids(find(index, "falls", partner)) == []
    assert ids(find(index, "falls", outsider)) == []
    assert sorted(ids(find(index, "falls", insider))) == ["h1", "h2", "h3"]


def test_threads_and_replies_follow_chatham_house(index: LocalIndex) -> None:
    def post(doc_type: str, id: str, chatham: bool) -> SearchDocument:
        return SearchDocument(
            doc_type=doc_type,
            id=id,
            community_id="c1",
            kind="question" if doc_type == "thread" else "reply",
            title="Falls at night" if doc_type == "thread" else "",
            label="Falls at night",
            body="what helps with falls",
            thread_id="t1" if id in ("t1", "p1") else "t2",
            audience=audience.thread_audience(community_id="c1", chatham_house=chatham),
        )

    index.apply([], [post("thread", "t1", False), post("reply", "p1", False), post("thread", "t2", True)], None)
    assert sorted(ids(find(index, "falls", CALLERS["member"]))) == ["p1", "t1", "t2"]
    assert sorted(ids(find(index, "falls", CALLERS["partner"]))) == ["p1", "t1"]
    assert ids(find(index, "falls", CALLERS["outsider"])) == []
    index.apply([Removal("thread", "t1")], [], None)  # the thread is removed: so are its replies
    assert ids(find(index, "falls", CALLERS["member"])) == ["t2"]


def test_archived_items_only_when_asked(index: LocalIndex) -> None:
    index.apply([], [item("r1", "Falls", "x", status="archived")], None)
    assert ids(find(index, "falls")) == []
    assert ids(find(index, "falls", filters=SearchFilters(include_archived=True))) == ["r1"]


def test_query_syntax_is_words_only(index: LocalIndex) -> None:
    index.apply([], [item("r1", "Falls", "x", visibility="community", community="c9")], None)
    # Field syntax is just words: it cannot widen what the caller may see.
    for q in ["audience:net falls", "community_id:c9 OR falls", "falls OR *", '"falls']:
        assert ids(find(index, q)) == []


def test_reopening_keeps_the_index_and_its_position(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    first = LocalIndex(folder)
    assert first.open() is True
    at = datetime(2027, 1, 1, tzinfo=UTC)
    first.apply([], [item("r1", "Falls", "x")], at)
    first.close()
    again = LocalIndex(folder)
    assert again.open() is False
    assert again.position == at
    assert ids(find(again, "falls")) == ["r1"]
    again.close()


@pytest.mark.parametrize("damage", ["meta.json", "weft-search.json", "schema"])
def test_a_damaged_index_is_started_afresh(tmp_path: Path, damage: str) -> None:
    folder = tmp_path / "index"
    first = LocalIndex(folder)
    first.open()
    first.apply([], [item("r1", "Falls", "x")], datetime(2027, 1, 1, tzinfo=UTC))
    first.close()
    if damage == "schema":
        Path(folder, "weft-search.json").write_text('{"schema_version": 0, "position": null}')
    else:
        Path(folder, damage).write_text("{not json")
    again = LocalIndex(folder)
    assert again.open() is True  # to be rebuilt
    assert again.position is None
    assert again.count() == 0
    again.close()
