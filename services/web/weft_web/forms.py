"""Form input, checked before it goes to the API, with messages a person can act on.

The API checks everything again (it is the authority); checking here too lets a page name the
problem beside the field without a round trip, and in the person's language. What the API
still refuses comes back as `ApiError.fields`, shown the same way (`FormErrors.from_api`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from weft_web.gateway import ApiError
from weft_web.i18n import _

T = TypeVar("T")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+\Z")


class FieldError(ValueError):
    pass


def _no_controls(value: str, *, allow_newlines: bool) -> str:
    for char in value:
        if unicodedata.category(char) == "Cc" and not (allow_newlines and char in "\n\t"):
            raise FieldError(_("Remove the control characters."))
    return value


def clean_line(value: str, *, label: str, max_length: int = 200, required: bool = True) -> str:
    value = _no_controls(value.replace("\r", "").strip(), allow_newlines=False)
    if required and not value:
        raise FieldError(_("Enter %(label)s.", label=label.lower()))
    if len(value) > max_length:
        raise FieldError(_("Use at most %(n)s characters.", n=max_length))
    return value


def clean_text(value: str, *, label: str, max_length: int = 20_000, required: bool = False) -> str:
    value = _no_controls(value.replace("\r\n", "\n").strip(), allow_newlines=True)
    if required and not value:
        raise FieldError(_("Enter %(label)s.", label=label.lower()))
    if len(value) > max_length:
        raise FieldError(_("Use at most %(n)s characters.", n=max_length))
    return value


def clean_email(value: str) -> str:
    value = value.strip()
    if not _EMAIL.match(value) or len(value) > 254:
        raise FieldError(_("Enter an email address like name@example.org."))
    return value


class FormErrors:
    """Collects one message per field; falsy when the form is good."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self.messages)

    def check(self, field: str, cleaner: Callable[..., T], value: Any, **options: Any) -> T:
        """The cleaned value, or (with the message recorded) the raw value to show again."""
        try:
            return cleaner(value, **options)
        except FieldError as exc:
            self.messages.setdefault(field, str(exc))
            return value  # type: ignore[no-any-return]

    def add(self, field: str, message: str) -> None:
        self.messages.setdefault(field, message)

    @classmethod
    def from_api(cls, error: ApiError, fields: Mapping[str, str] | None = None) -> FormErrors:
        """The API's refused fields under the form's names (`fields`: API name -> form name).

        A refusal that names no field of the form is shown at the top of the form (`_form`).
        """
        errors = cls()
        for api_field, message in error.fields.items():
            form_field = (fields or {}).get(api_field, api_field)
            errors.add(form_field, message)
        if not errors.messages or (fields is not None and not set(error.fields) & set(fields)):
            errors.add("_form", error.detail)
        return errors
