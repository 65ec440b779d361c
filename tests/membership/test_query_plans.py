"""Every query the membership repositories send reads through an index.

Each repository method runs against a seeded database of its own while a
command listener records what it sends; every recorded query is then explained
(`queryPlanner`) and its winning plan walked: no COLLSCAN anywhere in it. The
table of calls must name every public method of every repository, so a new
query cannot go unchecked.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient

from tests.support.query_plans import collection_scans, public_methods, recording_database
from weft_membership.domain.membership import MemberStatus
from weft_membership.storage import Storage
from weft_shared.service.clock import now

Doc = dict[str, Any]


async def seed(db: Any) -> None:
    at = now()
    visibilities = ["public", "private", "hidden"]
    await db.communities.insert_many(
        [
            {
                "_id": f"c{i:04d}",
                "slug": f"community-{i:04d}",
                "name": f"Community {i}",
                "purpose": "practice",
                "tags": [f"tag{i % 7}"],
                "visibility": visibilities[i % 3],
                "join_policy": "open",
                "archived": i % 10 == 0,
                "owners": [f"u{i:04d}"],
                "facilitators": [],
                "search_terms": ["co", "com", f"t{i % 5}"],
            }
            for i in range(300)
        ]
    )
    statuses = [s.value for s in MemberStatus]
    await db.memberships.insert_many(
        [
            {
                "_id": f"c{i % 300:04d}:u{i:04d}",
                "community_id": f"c{i % 300:04d}",
                "user_id": f"u{i:04d}",
                "status": statuses[i % len(statuses)],
                "via": "open",
                "joined_at": at,
                "request": {"id": f"r{i:04d}", "message": None, "requested_at": at},
            }
            for i in range(1200)
        ]
    )
    await db.member_counts.insert_many(
        [{"_id": f"c{i:04d}:{s}", "community_id": f"c{i:04d}", "n": 1} for i in range(300) for s in range(3)]
    )
    await db.users.insert_many(
        [
            {
                "_id": f"u{i:04d}",
                "display_name": f"Person {i}",
                "expertise_terms": [f"skill{i % 9}"],
                "search_terms": ["pe", "per", f"x{i % 4}"],
            }
            for i in range(1200)
        ]
    )
    await db.links.insert_many(
        [
            {
                "_id": f"l{i:04d}",
                "pair_key": f"c{i:04d}:c{i + 1:04d}",
                "from_community_id": f"c{i:04d}",
                "to_community_id": f"c{i + 1:04d}",
                "status": ["proposed", "active", "removed"][i % 3],
            }
            for i in range(299)
        ]
    )
    await db.invitations.insert_many(
        [
            {
                "_id": f"i{i:04d}",
                "token_hash": f"h{i:04d}",
                "community_id": f"c{i % 300:04d}",
                "status": "pending",
                "expires_at": at + timedelta(days=1),
            }
            for i in range(500)
        ]
    )


def calls(store: Storage) -> dict[str, Callable[[], Awaitable[object]]]:
    """One call of every public repository method, with realistic arguments."""
    c, m, p, links, inv = store.communities, store.memberships, store.people, store.links, store.invitations
    member_fields = {"status": MemberStatus.ACTIVE.value, "joined_at": now()}
    return {
        "Communities.get": lambda: c.get("c0001"),
        "Communities.insert": lambda: c.insert({"_id": "new", "slug": "new-one", "visibility": "public"}),
        "Communities.set_fields": lambda: c.set_fields("c0001", {"name": "Renamed"}),
        "Communities.directory_page": lambda: c.directory_page(
            my_community_ids=["c0002", "c0005"], terms=[], tag=None, after_slug=None, limit=21
        ),
        "Communities.directory_page(terms, tag, after)": lambda: c.directory_page(
            my_community_ids=["c0002"], terms=["com", "t1"], tag="tag3", after_slug="community-0100", limit=21
        ),
        "Communities.directory_page(tag)": lambda: c.directory_page(
            my_community_ids=[], terms=[], tag="tag2", after_slug=None, limit=21
        ),
        "Communities.by_ids": lambda: c.by_ids(["c0001", "c0002"]),
        "Communities.public_ids": c.public_ids,
        "Memberships.get": lambda: m.get("c0001", "u0001"),
        "Memberships.put": lambda: m.put("c0001", "u0301", member_fields, before=None),
        "Memberships.active_count": lambda: m.active_count("c0001"),
        "Memberships.active_counts": lambda: m.active_counts(["c0001", "c0002"]),
        "Memberships.active_community_ids": lambda: m.active_community_ids("u0001"),
        "Memberships.members_page": lambda: m.members_page("c0001", only=None, exclude=[], after_user=None, limit=51),
        "Memberships.members_page(owners)": lambda: m.members_page(
            "c0001", only=["u0001"], exclude=[], after_user=None, limit=51
        ),
        "Memberships.members_page(owners, after)": lambda: m.members_page(
            "c0001", only=["u0001", "u0301"], exclude=[], after_user="u0100", limit=51
        ),
        "Memberships.members_page(plain members, after)": lambda: m.members_page(
            "c0001", only=None, exclude=["u0001"], after_user="u0300", limit=51
        ),
        "Memberships.pending_requests_page": lambda: m.pending_requests_page("c0001", after_user="u0001", limit=51),
        "Memberships.find_request": lambda: m.find_request("c0001", "r0001"),
        "Memberships.active_member_ids": lambda: m.active_member_ids(["c0001", "c0003"]),
        "MemberCounts.add": lambda: m.counts.add("c0001", "u0001", 1),
        "MemberCounts.total": lambda: m.counts.total("c0001"),
        "MemberCounts.totals": lambda: m.counts.totals(["c0001", "c0002"]),
        "People.ensure": lambda: p.ensure("u0001", "u1@example.org", "Person 1"),
        "People.get": lambda: p.get("u0001"),
        "People.names": lambda: p.names(["u0001", "u0002"]),
        "People.save_profile": lambda: p.save_profile("u0001", {"bio": "hello"}),
        "People.page": lambda: p.page(ids=["u0001", "u0002"], expertise=None, terms=[], after_user=None, limit=21),
        "People.page(expertise, terms, after)": lambda: p.page(
            ids=[f"u{i:04d}" for i in range(500)], expertise="skill1", terms=["per"], after_user="u0010", limit=21
        ),
        "Links.get": lambda: links.get("l0001"),
        "Links.by_pair": lambda: links.by_pair("c0001:c0002"),
        "Links.insert": lambda: links.insert({"_id": "lnew", "pair_key": "c0001:c0200"}),
        "Links.set_fields": lambda: links.set_fields("l0001", {"status": "active"}),
        "Links.of_community": lambda: links.of_community("c0001", statuses=["proposed", "active"]),
        "Invitations.insert": lambda: inv.insert({"_id": "inew", "token_hash": "hnew", "community_id": "c0001"}),
        "Invitations.by_token_hash": lambda: inv.by_token_hash("h0001"),
        "Invitations.mark_accepted": lambda: inv.mark_accepted("i0001", "u0001"),
        "Invitations.get": lambda: inv.get("i0001"),
        "Invitations.mark_withdrawn": lambda: inv.mark_withdrawn("i0002", "u0001"),
        "Slugs.claim": lambda: store.slugs.claim("a-new-slug", "new"),
        "Slugs.release": lambda: store.slugs.release("a-new-slug"),
        "Slugs.claim_existing": lambda: store.slugs.claim_existing("community-0001", "c0001"),
    }


def repository_methods(store: Storage) -> set[str]:
    names: set[str] = set()
    repositories = (store.communities, store.memberships, store.memberships.counts, store.people, store.links)
    for repository in (*repositories, store.invitations, store.slugs):
        cls = type(repository)
        names.update(f"{cls.__name__}.{name}" for name in public_methods(cls))
    return names


async def test_every_repository_query_reads_through_an_index(database) -> None:  # type: ignore[no-untyped-def]
    async with recording_database(database.url, "membership_plans") as (db, recorder):
        store = Storage.on(db)
        await store.create_indexes()
        await seed(db)
        table = calls(store)
        assert {name.split("(")[0] for name in table} == repository_methods(store), "a repository method is unchecked"

        problems: list[str] = []
        explained = 0
        for name, call in table.items():
            recorder.commands.clear()
            await call()
            assert recorder.commands or name.endswith((".insert", ".claim")), f"{name} sent no query"
            read, found = await collection_scans(db, recorder.commands)
            explained += read
            problems += [f"{name}: {problem}" for problem in found]
        assert problems == [], "\n".join(problems)
        assert explained >= len(table) - 4  # every query but the four plain inserts


async def test_searches_read_on_past_a_batch_and_page_exactly(database) -> None:  # type: ignore[no-untyped-def]
    """The conditions checked beside the index (a second term, a tag, an expertise)
    give the same pages as a plain filter would, however many candidates they skip."""
    client: AsyncMongoClient[Doc] = AsyncMongoClient(database.url, tz_aware=True)
    db = client[f"membership_search_{secrets.token_hex(4)}"]
    try:
        store = Storage.on(db)
        await store.create_indexes()
        await seed(db)
        hidden_mine = ["c0002", "c0011", "c0020"]  # hidden (i % 3 == 2); c0011 also has the term t1
        expected = [
            f"community-{i:04d}"
            for i in range(300)
            if i % 5 == 1 and i % 10 != 0 and (i % 3 != 2 or f"c{i:04d}" in hidden_mine)
        ]
        pages: list[list[str]] = []
        after = None
        while True:
            docs = await store.communities.directory_page(
                my_community_ids=hidden_mine, terms=["com", "t1"], tag=None, after_slug=after, limit=7
            )
            pages.append([d["slug"] for d in docs])
            if len(docs) < 7:
                break
            after = docs[-1]["slug"]
        assert [slug for page in pages for slug in page] == expected
        assert "community-0011" in expected and all(len(p) == 7 for p in pages[:-1])

        people = await store.people.page(
            ids=[f"u{i:04d}" for i in range(1200)], expertise="skill1", terms=["per"], after_user="u0010", limit=21
        )
        assert [p["_id"] for p in people] == [f"u{i:04d}" for i in range(11, 1200) if i % 9 == 1][:21]
    finally:
        await client.drop_database(db.name)
        await client.close()
