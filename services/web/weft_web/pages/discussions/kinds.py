"""The words for thread kinds, reactions and report reasons (the API's fixed sets)."""

from __future__ import annotations

from weft_web.i18n import _

STARTED_KINDS = ("discussion", "question", "announcement")
REACTIONS = ("thumbs_up", "heart", "insightful", "thanks")
REPORT_REASONS = ("harassment", "misinformation", "personal_data", "spam", "off_topic", "other")


def kind_label(kind: str) -> str:
    labels = {
        "discussion": _("Discussion"),
        "question": _("Question"),
        "announcement": _("Announcement"),
        "comments": _("Comments"),
    }
    return labels.get(kind, kind)


def reaction_label(emoji: str) -> str:
    labels = {"thumbs_up": _("Thumbs up"), "heart": _("Heart"), "insightful": _("Insightful"), "thanks": _("Thanks")}
    return labels.get(emoji, emoji)


def reason_label(reason: str) -> str:
    labels = {
        "harassment": _("Harassment or bullying"),
        "misinformation": _("Wrong or unsafe information"),
        "personal_data": _("Personal or patient data"),
        "spam": _("Spam or advertising"),
        "off_topic": _("Off topic"),
        "other": _("Something else"),
    }
    return labels.get(reason, reason)


def action_label(action: str) -> str:
    labels = {
        "hide": _("Hidden"),
        "unhide": _("Shown again"),
        "lock": _("Locked"),
        "unlock": _("Unlocked"),
        "remove": _("Removed"),
        "dismiss": _("Reports dismissed"),
    }
    return labels.get(action, action)


def template_helpers() -> dict[str, object]:
    """The functions the discussion templates call."""
    return {
        "kind_label": kind_label,
        "reaction_label": reaction_label,
        "reason_label": reason_label,
        "action_label": action_label,
        "REACTIONS": REACTIONS,
        "REPORT_REASONS": REPORT_REASONS,
    }
