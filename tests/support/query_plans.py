"""Checking that queries read through an index: record what a storage layer sends
(a command listener on a client of its own), explain each query, walk the winning plan;
and check that a test ran every query method of the storage it covers."""

from __future__ import annotations

import inspect
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

Doc = dict[str, Any]
# Commands that read or match documents; inserts match nothing.
QUERIES = {"find", "aggregate", "count", "distinct", "findAndModify", "update", "delete"}
# What a command carries for the session or the connection, not for the plan.
ENVELOPE = {"lsid", "txnNumber", "autocommit", "startTransaction", "readConcern", "writeConcern"}
# The parts of each command `explain` takes.
PLANNED = {
    "find": ("filter", "sort", "projection", "limit"),
    "aggregate": ("pipeline",),
    "count": ("query",),
    "distinct": ("key", "query"),
    "findAndModify": ("query", "sort", "update", "fields", "upsert", "new"),
}


class Recorder(monitoring.CommandListener):
    def __init__(self) -> None:
        self.commands: list[Doc] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in QUERIES:
            self.commands.append(
                {k: v for k, v in event.command.items() if k not in ENVELOPE and not k.startswith("$")}
            )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@asynccontextmanager
async def recording_client(url: str) -> AsyncIterator[tuple[AsyncMongoClient[Doc], Recorder]]:
    """A client of its own whose queries are recorded (closed afterwards)."""
    recorder = Recorder()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(url, tz_aware=True, event_listeners=[recorder])
    try:
        yield client, recorder
    finally:
        await client.close()


@asynccontextmanager
async def recording_database(url: str, prefix: str) -> AsyncIterator[tuple[AsyncDatabase[Doc], Recorder]]:
    """A fresh database named `prefix_<random>` on a recording client, dropped afterwards."""
    async with recording_client(url) as (client, recorder):
        db = client[f"{prefix}_{secrets.token_hex(4)}"]
        try:
            yield db, recorder
        finally:
            await client.drop_database(db.name)


def public_methods(cls: type) -> set[str]:
    """The query methods of a storage class: its public coroutines and async generators
    (but `create_indexes`), which a plan test runs every one of."""
    return {
        name
        for name, member in inspect.getmembers(cls, inspect.isfunction)
        if not name.startswith("_")
        and name != "create_indexes"
        and (inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member))
    }


class Calls:
    """A storage object whose method calls are counted, to prove every method ran."""

    def __init__(self, target: object) -> None:
        self._target = target
        self.called: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if callable(attr):
            self.called.add(name)
        return attr

    def methods(self) -> set[str]:
        return public_methods(type(self._target))


def explainable(command: Doc) -> list[Doc]:
    """The queries in one recorded command, in a form to explain. An update or a
    delete is explained by the find of its filter: the plan that selects what it
    writes. (SecantusDB 0.7.0b3's explain ignores `updates[].q` and reports a
    COLLSCAN for any update; mongod plans the filter.)"""
    name = next(iter(command))
    collection = command[name]
    statements = {"update": "updates", "delete": "deletes"}.get(name)
    if statements is not None:
        return [{"find": collection, "filter": s["q"]} for s in command[statements]]
    explained = {name: collection, **{k: command[k] for k in PLANNED[name] if k in command}}
    if name == "aggregate":
        explained["cursor"] = {}
    return [explained]


def winning_plans(explained: Any) -> Iterator[Doc]:
    """Every `winningPlan` in an explain answer (an aggregate nests one per cursor stage)."""
    if isinstance(explained, dict):
        for key, value in explained.items():
            if key == "winningPlan" and isinstance(value, dict):
                yield value
            else:
                yield from winning_plans(value)
    elif isinstance(explained, list):
        for item in explained:
            yield from winning_plans(item)


def stages(plan: Any) -> Iterator[str]:
    if isinstance(plan, dict):
        if isinstance(plan.get("stage"), str):
            yield plan["stage"]
        for value in plan.values():
            yield from stages(value)
    elif isinstance(plan, list):
        for item in plan:
            yield from stages(item)


async def collection_scans(db: AsyncDatabase[Doc], commands: list[Doc]) -> tuple[int, list[str]]:
    """Explain every query in `commands`: how many plans were read, and a line for
    each plan that scans a collection (or each explain that gave no plan)."""
    explained, problems = 0, []
    for query in [q for c in commands for q in explainable(c)]:
        answer = await db.command({"explain": query, "verbosity": "queryPlanner"})
        plans = list(winning_plans(answer))
        if not plans:
            problems.append(f"no winning plan in the explain of {query}: {answer}")
        for plan in plans:
            explained += 1
            if "COLLSCAN" in set(stages(plan)) and not _one_by_id(query):
                problems.append(f"COLLSCAN for {query}: {plan}")
    return explained, problems


def _one_by_id(query: Doc) -> bool:
    """A filter naming one `_id` (a guarded write: `{_id: X, status: ..., claim: ...}`) reads
    that one document through the `_id` index on every server: mongod's IDHACK, rs's plan.
    secantusd-py's explain reports a COLLSCAN for it while its executor reads by `_id`
    (docs/secantusdb.md, item 10: 1.0 ms, as for `{_id: X}` alone)."""
    selector = query.get("filter", query.get("query"))
    return isinstance(selector, dict) and "_id" in selector and not isinstance(selector["_id"], dict)
