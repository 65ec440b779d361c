"""Read models fed by messages: a service's own copy of facts another service owns.

Each document holds the whole current state of its subject plus the stream sequence
of the message it came from, so an older message delivered late never overwrites a
newer one, and a redelivered one changes nothing.
"""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from weft_shared.storage.unit_of_work import current_session

Doc = dict[str, Any]


async def apply_if_newer(
    collection: AsyncCollection[Doc], key: str, state: Doc, sequence: int, *, seq_field: str = "seq"
) -> bool:
    """Upsert `state` as document `key` unless a newer message is already applied. True if
    this one is current (also when redelivered). Runs in the handler's transaction, so the
    check and the write are one step. `seq_field` keeps facts about one subject that come
    from different messages apart (a person's name and address), so a newer one of one
    kind never hides an older one of the other."""
    session = current_session()
    held = await collection.find_one({"_id": key}, projection={seq_field: 1}, session=session)
    if held is not None and held.get(seq_field, -1) > sequence:
        return False  # the stored state is newer
    await collection.update_one({"_id": key}, {"$set": {**state, seq_field: sequence}}, upsert=True, session=session)
    return True
