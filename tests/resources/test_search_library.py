"""Library items written through the API are searchable within moments, by those who may
see them, and an edit or a draft changes that (the items' writes touch the search feed)."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from pymongo.asynchronous.database import AsyncDatabase

from tests.resources.discussions import reply, start_thread
from tests.resources.library import circle, create_note
from tests.support.api import new_person
from tests.support.waiting import eventually

Doc = dict[str, Any]


async def _found(web: httpx.AsyncClient, headers: dict[str, str], word: str) -> set[str]:
    response = await web.get("/v1/search", params={"q": word}, headers=headers)
    assert response.status_code == 200, response.text
    return {hit["id"] for hit in response.json()["items"]}


async def test_a_note_is_found_by_its_words_and_an_edit_takes_them_away(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=1, label="search-lib")
    word = f"zylo{secrets.token_hex(3)}"
    note = await create_note(web, home.owner, home.id, title="Falls clinic handover", text=f"Bring the {word} form.")
    draft = await create_note(web, home.owner, home.id, title=f"Draft {word}", text="Not yet.", status="draft")

    async def owner_finds_both() -> bool:
        return await _found(web, home.owner.headers, word) == {note["id"], draft["id"]}

    await eventually(owner_finds_both, what="the note and the draft in their creator's search")
    assert await _found(web, home.member.headers, word) == {note["id"]}, "the draft: its creator and staff only"
    assert await _found(web, new_person("outsider").headers, word) == set(), "a community item: members only"

    edited = await web.patch(
        f"/v1/resources/{note['id']}", json={"text": "Bring the usual form."}, headers=home.owner.headers
    )
    assert edited.status_code == 200, edited.text

    async def gone() -> bool:
        return note["id"] not in await _found(web, home.member.headers, word)

    await eventually(gone, what="the edited note out of the results for its old word")


async def test_threads_and_replies_are_found_and_an_anonymous_author_is_nowhere_in_the_results(
    web: httpx.AsyncClient, resources_db: AsyncDatabase[Doc]
) -> None:
    home = await circle(web, resources_db, members=2, label="search-talk")
    asker, replier = home.members
    word = f"quorv{secrets.token_hex(3)}"
    question = await start_thread(
        web,
        home.id,
        asker,
        kind="question",
        title=f"Who uses {word} charts?",
        body="Asking for my ward.",
        anonymous=True,
    )
    answer = await reply(web, question["id"], replier, body=f"We use {word} charts on nights.")

    async def both_found() -> list[Doc] | None:
        response = await web.get("/v1/search", params={"q": word}, headers=home.owner.headers)
        assert response.status_code == 200, response.text
        hits: list[Doc] = response.json()["items"]
        return hits if {h["id"] for h in hits} == {question["id"], answer["id"]} else None

    hits = await eventually(both_found, what="the question and its reply in search")
    assert asker.user_id not in str(hits), "the anonymous asker is in no result, not even the moderators'"
    outsider = await web.get("/v1/search", params={"q": word}, headers=new_person("outsider").headers)
    assert outsider.status_code == 200 and outsider.json()["items"] == [], "threads: members (and partners) only"
