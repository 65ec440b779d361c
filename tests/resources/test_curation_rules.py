"""The curation rules (domain/curation.py): guarded review-status moves, the review-by
date's arming and its once-per-date claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from weft_resources.domain.curation import (
    require_endorsable,
    review_by_fields,
    review_claim,
    review_due_message_id,
    status_fields,
    transition,
)
from weft_shared.errors import Conflict

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def item(**fields: object) -> dict[str, object]:
    return {"_id": "r1", "community_id": "c1", "status": "published", **fields}


@pytest.mark.parametrize(
    ("current", "target", "moves"),
    [
        ("draft", "published", True),
        ("archived", "published", True),
        ("published", "archived", True),
        ("published", "published", False),
        ("archived", "archived", False),
    ],
)
def test_allowed_moves_and_repeats(current: str, target: str, moves: bool) -> None:
    assert transition(item(status=current), target) is moves  # type: ignore[arg-type]


def test_a_draft_cannot_be_archived_and_nothing_goes_back_to_draft() -> None:
    with pytest.raises(Conflict) as refused:
        transition(item(status="draft"), "archived")
    assert refused.value.status == 409 and "draft" in refused.value.detail


def test_only_published_items_are_endorsable() -> None:
    require_endorsable(item(status="published"))
    for status in ("draft", "archived"):
        with pytest.raises(Conflict):
            require_endorsable(item(status=status))


def test_a_new_date_arms_the_review_and_removing_it_disarms() -> None:
    armed = review_by_fields(item(), T0)
    assert armed == {"review_by": T0, "review_next": T0, "review_due": False, "review_due_key": None}
    assert review_by_fields(item(review_by=T0, review_next=T0), T0) is None  # the same date: nothing to write
    assert review_by_fields(item(), None) is None  # no date to remove
    cleared = review_by_fields(item(review_by=T0, review_due=True), None)
    assert cleared == {"review_by": None, "review_next": None, "review_due": False, "review_due_key": None}


def test_the_claim_comes_once_the_date_has_come() -> None:
    armed = item(review_by=T0, review_next=T0)
    assert review_claim(armed, T0 - timedelta(seconds=1)) is None
    claim = review_claim(armed, T0)
    assert claim is not None and claim.announce
    assert claim.fields["review_next"] is None and claim.fields["review_due_for"] == T0
    assert claim.fields["review_due"] is True
    assert review_claim({**armed, **claim.fields}, T0 + timedelta(days=1)) is None  # claimed: nothing more


def test_a_date_already_announced_set_again_stays_announced() -> None:
    announced = item(review_by=T0 + timedelta(days=5), review_due_for=T0)
    fields = review_by_fields(announced, T0)
    assert fields is not None and fields["review_next"] is None and fields["review_due"] is True
    new_date = review_by_fields(announced, T0 + timedelta(days=9))
    assert new_date is not None and new_date["review_next"] == T0 + timedelta(days=9)


def test_an_archived_item_is_out_of_review_until_brought_back() -> None:
    archived = item(status="archived", review_by=T0, review_next=T0)
    claim = review_claim(archived, T0 + timedelta(hours=1))
    assert claim is not None and not claim.announce and claim.fields == {"review_next": None}
    back = status_fields({**archived, **claim.fields}, "published")
    assert back == {"status": "published", "review_next": T0}  # re-armed: never announced
    announced = item(status="archived", review_by=T0, review_due_for=T0)
    assert status_fields(announced, "published") == {"status": "published"}


def test_one_message_id_per_item_and_date() -> None:
    assert review_due_message_id("r1", T0) == review_due_message_id("r1", T0)
    assert review_due_message_id("r1", T0) != review_due_message_id("r1", T0 + timedelta(milliseconds=1))
