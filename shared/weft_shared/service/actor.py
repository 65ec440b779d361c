"""Who a use case acts for: a signed-in person, or the system when a message or
a background job drives it. Use cases take one explicitly, never `None`."""

from __future__ import annotations

from dataclasses import dataclass

from weft_shared.auth.tokens import Principal


@dataclass(frozen=True, slots=True)
class Person:
    principal: Principal

    @property
    def id(self) -> str:
        return self.principal.sub


@dataclass(frozen=True, slots=True)
class System:
    """The service itself. `reason` says why (it goes into messages and logs);
    `on_behalf_of` is the person whose action set it off, when there is one
    (e.g. the owner who archived a community whose events are now cancelled)."""

    reason: str
    on_behalf_of: str | None = None

    @property
    def id(self) -> str | None:
        return self.on_behalf_of


Actor = Person | System
