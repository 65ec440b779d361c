"""What each notice says: its one-line title and short text, from the message and
the names the read model knows ("Someone" / "a community" when it knows none).

Pure functions, no I/O: a handler looks the names up and passes them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SOMEONE = "Someone"
A_COMMUNITY = "a community"
# An anonymous post's author, as members see it (the bus never names them).
ANONYMOUS = "An anonymous member"
# Summaries shown in a notice are cut to about this many characters.
SUMMARY_ROOM = 200


@dataclass(frozen=True, slots=True)
class Wording:
    title: str
    text: str


def when(starts_at: datetime, timezone: str) -> str:
    """`Tue 8 Dec 2026, 14:00 (Europe/London)`: the event's own local time."""
    try:
        local = starts_at.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        local, timezone = starts_at, "UTC"
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({timezone})"


def join_requested(who: str, community: str, message: str | None) -> Wording:
    return Wording(
        f"{who} asked to join {community}",
        message or f"{who} is waiting for a decision on their request to join {community}.",
    )


def join_approved(community: str) -> Wording:
    return Wording(f"Welcome to {community}", f"Your request to join {community} was approved.")


def join_declined(community: str) -> Wording:
    return Wording(f"Your request to join {community} was declined", f"Your request to join {community} was declined.")


def invitation(who: str, community: str, expires_at: datetime) -> Wording:
    return Wording(
        f"{who} invited you to join {community}",
        f"The invitation is open until {expires_at:%d %b %Y}.",
    )


def role_changed(community: str, old_role: str, new_role: str) -> Wording:
    return Wording(
        f"You are now {_a(new_role)} of {community}",
        f"Your role in {community} changed from {old_role} to {new_role}.",
    )


def removed(community: str, *, banned: bool) -> Wording:
    if banned:
        return Wording(
            f"You were removed from {community}",
            f"You were removed from {community} and can no longer rejoin it.",
        )
    return Wording(f"You were removed from {community}", f"You are no longer a member of {community}.")


def barred(community: str) -> Wording:
    return Wording(f"You can no longer join {community}", f"{community} has barred you from joining it.")


def code_of_conduct(community: str, version: int) -> Wording:
    return Wording(
        f"{community} published a new code of conduct",
        f"Version {version} of the code of conduct of {community} is out: please read and accept it.",
    )


def link_proposed(who: str, proposer: str, other: str) -> Wording:
    return Wording(
        _capital(f"{proposer} proposed a link with {other}"),
        f"{who} proposed linking {proposer} with {other}; an owner of {other} can accept it.",
    )


def link_accepted(who: str, one: str, other: str) -> Wording:
    return Wording(_capital(f"{one} and {other} are now linked"), f"{who} accepted the link between {one} and {other}.")


def event_scheduled(title: str, community: str, starts: str, *, series: bool) -> Wording:
    if series:
        return Wording(f"New event series in {community}: {title}", f"A series of events starts {starts}.")
    return Wording(f"New event in {community}: {title}", f"{title} is on {starts}.")


def event_changed(title: str, starts: str, venue: str | None, event_format: str) -> Wording:
    where = venue or event_format.replace("_", " ")
    return Wording(f"{title} has changed", f"{title} is now on {starts}, {where}.")


def event_cancelled(title: str, starts: str, reason: str | None) -> Wording:
    because = f" Reason: {reason}" if reason else ""
    return Wording(f"{title} is cancelled", f"{title} on {starts} will not take place.{because}")


def rsvp_promoted(title: str, starts: str) -> Wording:
    return Wording(f"You have a place at {title}", f"A place freed up at {title} on {starts}: it is yours.")


def reminder(title: str, starts: str, offset_minutes: int) -> Wording:
    return Wording(f"Reminder: {title} starts in {_span(offset_minutes)}", f"{title} starts {starts}.")


# -- the library and discussions ---------------------------------------------------
# A Chatham House thread's notices name only its title: never who posted or replied.


def announcement_posted(who: str, community: str, title: str, *, chatham_house: bool) -> Wording:
    if chatham_house:
        return Wording(f"Announcement in {community}: {title}", f"A new announcement for every member of {community}.")
    return Wording(
        f"Announcement in {community}: {title}", f"{who} posted an announcement for every member of {community}."
    )


def reply_posted(who: str, title: str, community: str, thread_kind: str, *, chatham_house: bool) -> Wording:
    heading = f"New reply to “{title}”"
    if chatham_house:
        return Wording(heading, f"There is a new reply in “{title}”.")
    if thread_kind == "comments":
        return Wording(f"New comment on “{title}”", f"{who} commented on “{title}” in {community}.")
    return Wording(heading, f"{who} replied to the {thread_kind} “{title}” in {community}.")


def answer_accepted(who: str, title: str, *, chatham_house: bool) -> Wording:
    if chatham_house:
        return Wording("Your answer was accepted", f"Your answer to “{title}” was accepted.")
    return Wording("Your answer was accepted", f"{who} accepted your answer to “{title}”.")


REPORTED_KINDS = {"resource": "library item", "thread": "thread", "reply": "reply"}


def content_reported(content_kind: str, community: str) -> Wording:
    what = REPORTED_KINDS.get(content_kind, "post")
    return Wording(
        f"A {what} was reported in {community}",
        f"A {what} in {community} was reported to its moderators. The moderation queue shows it with the reason given.",
    )


def review_due(title: str, community: str, review_by: datetime) -> Wording:
    return Wording(
        f"Review due: {title}",
        f"“{title}” in {community} was due for review on {review_by:%d %b %Y}: check it is still current, "
        "then set a new review date or archive it.",
    )


def resource_endorsed(who: str, title: str, community: str, summary: str) -> Wording:
    text = f"{who} recommended “{title}” to the members of {community}."
    if summary.strip():
        text += f" {_cut(summary.strip(), SUMMARY_ROOM)}"
    return Wording(f"Recommended in {community}: {title}", text)


def _cut(text: str, room: int) -> str:
    """At most `room` characters, cut at a word, with an ellipsis when cut."""
    line = " ".join(text.split())
    if len(line) <= room:
        return line
    return line[:room].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def _capital(line: str) -> str:
    """A title starts with a capital, also when it starts with "a community"."""
    return line[:1].upper() + line[1:]


def _a(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


def _span(minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"
