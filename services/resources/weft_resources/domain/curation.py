"""Curation rules: the review status of a library item, its review-by date, endorsement.
Pure: no I/O (usecases/curation.py reads the item, asks these, and writes the result).

Review status moves `draft` -> `published` -> `archived`, and `archived` -> `published`
to bring an item back; nothing goes back to draft. A call that asks for the state the
item is already in is a no-op (200, nothing written, no message), so a client retrying
a publish never gets an error for something that worked; a move the rule does not
allow (archiving a draft) is a 409.

The review-by date (`review_by`) is flagged once per date: `review_next` holds the date
still to announce (the job's index reads it), the job's claim moves it to
`review_due_for` and sets `review_due`. Setting a new date re-arms it; setting the date
already announced changes nothing; removing it clears the flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from weft_resources.domain.documents import Doc
from weft_shared.errors import Conflict

ReviewStatus = Literal["draft", "published", "archived"]

# Which states each target may be reached from.
_REACHABLE_FROM: dict[str, frozenset[str]] = {
    "published": frozenset({"draft", "archived"}),
    "archived": frozenset({"published"}),
}


def status_of(item: Doc) -> str:
    return str(item.get("status", "published"))


def transition(item: Doc, target: Literal["published", "archived"]) -> bool:
    """True if `item` moves to `target`; False if it is there already (a no-op).
    Raises Conflict (409) for a move the rule does not allow."""
    current = status_of(item)
    if current == target:
        return False
    if current not in _REACHABLE_FROM[target]:
        raise Conflict(
            f"a {current} item cannot be {target}: only {' or '.join(sorted(_REACHABLE_FROM[target]))} items can"
        )
    return True


def status_fields(item: Doc, target: Literal["published", "archived"]) -> Doc:
    """The fields a status change writes. Bringing an item back re-arms a review-by date
    that was never announced (archiving stops the review clock, see `review_claim`)."""
    fields: Doc = {"status": target}
    if target == "published":
        review_by = item.get("review_by")
        if review_by is not None and review_by != item.get("review_due_for"):
            fields["review_next"] = review_by
    return fields


def review_by_fields(item: Doc, review_by: datetime | None) -> Doc | None:
    """The fields a new (or removed) review-by date writes, or None when nothing changes."""
    if review_by is None:
        if item.get("review_by") is None:
            return None
        return {"review_by": None, "review_next": None, "review_due": False, "review_due_key": None}
    if review_by == item.get("review_by"):
        return None
    if review_by == item.get("review_due_for"):
        # The date already announced, set back: it stays announced (once per date).
        return {
            "review_by": review_by,
            "review_next": None,
            "review_due": True,
            "review_due_key": due_key(item, review_by),
        }
    return {"review_by": review_by, "review_next": review_by, "review_due": False, "review_due_key": None}


def due_key(item: Doc, review_by: datetime) -> str:
    """The sort key of the review-due list: oldest date first, then by id."""
    return f"{review_by.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z:{item['_id']}"


@dataclass(frozen=True, slots=True)
class ReviewClaim:
    """What the job writes when `review_next` has come: `announce` says whether a
    `resource.review_due` goes out (not for an archived item: it is out of review)."""

    fields: Doc
    announce: bool


def review_claim(item: Doc, moment: datetime) -> ReviewClaim | None:
    """None when nothing is due (not armed, or not yet)."""
    due: Any = item.get("review_next")
    if due is None or due > moment:
        return None
    if status_of(item) == "archived":
        return ReviewClaim({"review_next": None}, announce=False)
    fields = {"review_next": None, "review_due_for": due, "review_due": True, "review_due_key": due_key(item, due)}
    return ReviewClaim(fields, announce=True)


def review_due_message_id(resource_id: str, due: datetime) -> str:
    """One message id per item and date: the stream's dedupe drops a second copy too."""
    return f"review-due:{resource_id}:{int(due.timestamp() * 1000)}"


def endorsement_key(item: Doc, at: datetime) -> str:
    """The sort key of the recommended list: newest endorsement first (read descending)."""
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z:{item['_id']}"


def require_endorsable(item: Doc) -> None:
    if status_of(item) != "published":
        raise Conflict(f"only a published item can be endorsed; this one is {status_of(item)}")
