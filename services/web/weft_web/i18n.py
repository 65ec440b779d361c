"""Every string a person reads goes through gettext, so the pages can be translated.

Templates use `{% trans %}` / `_()`; Python code uses `gettext` / `ngettext` from here. The
catalogue template is `weft_web/locale/messages.pot` (`pybabel extract -F babel.cfg`, kept
current by a test); a translation is `locale/<lang>/LC_MESSAGES/messages.mo`.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"

# One language per process (WEFT_WEB_LOCALE); per-person languages would make this a ContextVar.
_current: list[NullTranslations] = [NullTranslations()]


def load(locale: str) -> NullTranslations:
    """The catalogue for `locale`; the source strings (English) when there is none."""
    found = Translations.load(str(LOCALE_DIR), [locale])
    return found if isinstance(found, Translations) else NullTranslations()


def use(translations: NullTranslations) -> None:
    _current[0] = translations


def gettext(message: str, **values: object) -> str:
    text = _current[0].ugettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
    text = _current[0].ungettext(singular, plural, n)
    return text % {"num": n, **values}


_ = gettext
