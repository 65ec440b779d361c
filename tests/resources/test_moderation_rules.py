"""Moderation's guarded transitions (domain/moderation.py): each action moves only from
the states it expects, so a repeated action is refused and changes nothing."""

from __future__ import annotations

import pytest

from weft_resources.domain.moderation import (
    ContentKind,
    ModerationAction,
    audit_copy,
    next_state,
    redacted_text,
)
from weft_shared.errors import Conflict, Problem

VISIBLE: dict[str, object] = {"_id": "r1"}
HIDDEN: dict[str, object] = {"_id": "r1", "moderation": {"state": "hidden"}}
REMOVED: dict[str, object] = {"_id": "r1", "moderation": {"state": "removed"}}


def test_hide_unhide_remove_move_only_from_their_states() -> None:
    assert next_state(ContentKind.REPLY, VISIBLE, ModerationAction.HIDE) == "hidden"
    assert next_state(ContentKind.REPLY, HIDDEN, ModerationAction.UNHIDE) == "visible"
    assert next_state(ContentKind.REPLY, HIDDEN, ModerationAction.REMOVE) == "removed"
    assert next_state(ContentKind.RESOURCE, VISIBLE, ModerationAction.REMOVE) == "removed"
    assert next_state(ContentKind.REPLY, VISIBLE, ModerationAction.DISMISS) is None
    for doc, action in [
        (HIDDEN, ModerationAction.HIDE),
        (VISIBLE, ModerationAction.UNHIDE),
        (REMOVED, ModerationAction.UNHIDE),
        (REMOVED, ModerationAction.HIDE),
        (REMOVED, ModerationAction.REMOVE),
    ]:
        with pytest.raises(Conflict):
            next_state(ContentKind.REPLY, doc, action)


def test_only_open_threads_lock_and_only_locked_ones_unlock() -> None:
    assert next_state(ContentKind.THREAD, VISIBLE, ModerationAction.LOCK) is None
    assert next_state(ContentKind.THREAD, {**VISIBLE, "locked": True}, ModerationAction.UNLOCK) is None
    with pytest.raises(Conflict):
        next_state(ContentKind.THREAD, {**VISIBLE, "locked": True}, ModerationAction.LOCK)
    with pytest.raises(Conflict):
        next_state(ContentKind.THREAD, VISIBLE, ModerationAction.UNLOCK)
    with pytest.raises(Problem) as refused:  # can never apply: a 422 naming the action
        next_state(ContentKind.REPLY, VISIBLE, ModerationAction.LOCK)
    assert refused.value.status == 422 and refused.value.errors[0]["field"] == "action"


def test_removal_replaces_a_posts_words_and_the_log_keeps_them() -> None:
    thread = {"_id": "t1", "title": "Rude title", "body_markdown": "rude *words*", "body_html": "<p>rude</p>"}
    assert audit_copy(ContentKind.THREAD, thread) == {"title": "Rude title", "body_markdown": "rude *words*"}
    replaced = redacted_text(ContentKind.THREAD)
    assert replaced["title"] == replaced["body_markdown"] == "Removed by a moderator."
    assert "rude" not in str(replaced)
    assert redacted_text(ContentKind.RESOURCE) == {}  # a removed item leaves the library instead
