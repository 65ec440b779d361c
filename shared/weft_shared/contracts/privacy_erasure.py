"""Messages about erasing a person (UK GDPR / GDPR art. 17), published by membership.

`person.erased` is the one fact every service acts on: each deletes or anonymises
what it holds about the person and keeps a tombstone (a hash of the id), so a late
or redelivered message about them is dropped rather than recreating their data.
"""

from __future__ import annotations

from datetime import datetime

from weft_shared.contracts.base import MessagePayload, message


@message(
    "org.weft.person.erased.v1",
    "A person asked to be erased: every service deletes what it holds about them, or anonymises what must stay.",
)
class PersonErased(MessagePayload):
    user_id: str
    erased_at: datetime
