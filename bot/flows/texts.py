"""Everything a candidate reads: messages by key, durations, lists and moments in their language.

The wording lives in gettext catalogues (``bot/locales``, read by ``bot.flows.catalogues``);
this module fills them in. A language without a catalogue falls back to English; a message a
catalogue lacks falls back to English for that message only (the tests keep every catalogue
complete). Dates, times and lists are written by Babel in the candidate's locale, and moments
in the candidate's time zone.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from bot.flows import catalogues

# The consent text a candidate agreed to, stored on the interview. v2: the German consent was
# reworded (formal "Sie") and Spanish and French were added; what is asked is unchanged.
CONSENT_VERSION = "2026-11-v2"

# The Babel locale each catalogue's dates and lists are written in. English is British, like
# its wording ("recognise"); the other languages use their CLDR defaults.
_LOCALES = {"en": "en_GB"}
# English keeps the house format the hiring team reads too ("Mon 30 Nov 2026, 10:00"); the
# other languages use CLDR's pattern for a weekday, day, month and year ("Mo., 30. Nov. 2026").
_DATE_PATTERNS = {"en": "EEE d MMM y"}
_DATE_SKELETON = "yMMMEd"


@cache
def language_names() -> dict[str, str]:
    """Each catalogue's language, named in itself ("Deutsch", "Français")."""
    from babel import Locale

    return {
        code: str(Locale.parse(code).get_display_name(code)).capitalize()
        for code in catalogues.languages()
    }


def language_for(code: str | None) -> str:
    """A catalogue language for Telegram's ``language_code`` ("de-AT" → "de"), else English."""
    base = (code or catalogues.SOURCE_LANGUAGE).replace("_", "-").split("-")[0].lower()
    return base if base in catalogues.languages() else catalogues.SOURCE_LANGUAGE


def text(language: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``language``, filled with ``values``.

    A plural message picks its form by ``values["count"]`` with the language's plural rule.
    """
    if key not in catalogues.message_keys():
        raise KeyError(f"no message '{key}' in the English catalogue")
    translations = catalogues.translations(language_for(language))
    if key in catalogues.plural_keys():
        template = translations.ngettext(key, key, int(values["count"]))
    else:
        template = translations.gettext(key)
    return template.format(**values)


def list_types(language: str, types: list[str]) -> str:
    """Answer types as one choice: "voice note or video note"."""
    from babel.lists import format_list

    names = [text(language, f"type.{t}") for t in types]
    return format_list(names, style="or", locale=_locale(language)) if names else ""


def length(language: str, seconds: float) -> str:
    """A duration as a candidate reads it: "45 s", "2:05 min"."""
    whole = round(seconds)
    if whole < 60:
        return text(language, "seconds", n=whole)
    return text(language, "minutes", m=whole // 60, s=whole % 60)


def moment(language: str, when: datetime, zone: ZoneInfo) -> str:
    """Date and time in the candidate's language and time zone, naming the zone."""
    from babel.dates import format_datetime

    local = format_datetime(
        when, _datetime_pattern(language), tzinfo=zone, locale=_locale(language)
    )
    return text(language, "moment", moment=local, zone=zone.key)


def slot(language: str, when: datetime, zone: ZoneInfo) -> str:
    """Date and time without the zone's name: a slot button's label (its message names the
    zone once, for all of them)."""
    from babel.dates import format_datetime

    return format_datetime(when, _datetime_pattern(language), tzinfo=zone, locale=_locale(language))


def day(language: str, when: datetime, zone: ZoneInfo) -> str:
    """The date alone, as that day is called where the candidate is."""
    from babel.dates import format_date

    return format_date(
        when.astimezone(zone).date(), _date_pattern(language), locale=_locale(language)
    )


def _locale(language: str) -> str:
    language = language_for(language)
    return _LOCALES.get(language, language)


@cache
def _date_pattern(language: str) -> str:
    from babel import Locale

    language = language_for(language)
    if language in _DATE_PATTERNS:
        return _DATE_PATTERNS[language]
    return str(Locale.parse(_locale(language)).datetime_skeletons[_DATE_SKELETON].pattern)


@cache
def _datetime_pattern(language: str) -> str:
    """The date and short time, joined as the locale joins them ("{1}, {0}")."""
    from babel import Locale

    locale = Locale.parse(_locale(language))
    time = locale.time_formats["short"].pattern
    return (
        str(locale.datetime_formats["medium"])
        .replace("{1}", _date_pattern(language))
        .replace("{0}", time)
    )
