"""The gettext catalogues candidates are written to, read with Babel.

``bot/locales/<language>/LC_MESSAGES/hirebot.po`` holds one language; ``bot/locales/messages.pot``
is the template translations start from (``bot.flows.translating`` keeps them in step).

Message ids are stable keys ("welcome", "not_media.photo"), not English sentences: openings
and code name messages by key, and a check can tell exactly which key a catalogue lacks, has
left fuzzy or empty, or fills with other placeholders than English. ``en.po`` holds the
English wording like any other language; what keys lose against English msgids (gettext
marking a translation fuzzy when its English changes) ``bot.flows.translating`` does itself.
A plural message has its key as both msgid and msgid_plural and is chosen by its ``{count}``.

There is no build step and no ``.mo`` file: the first use of a language compiles its ``.po``
in memory with Babel (``read_po`` → ``write_mo``) into a standard ``gettext.GNUTranslations``,
so a fresh clone or an installed wheel works as is, and an edited ``.po`` is what runs.
``make test`` compiles every catalogue the same way before pytest
(``python -m bot.flows.translating --check``).
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel's catalogue tooling is only needed when a catalogue is first read
    from babel.messages.catalog import Catalog, Message

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "hirebot"
SOURCE_LANGUAGE = "en"


def po_path(language: str, locales: Path = LOCALES) -> Path:
    return locales / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def languages(locales: Path = LOCALES) -> tuple[str, ...]:
    """Every language with a catalogue, English first."""
    found = sorted(p.parent.parent.name for p in locales.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))


def read(language: str, locales: Path = LOCALES) -> Catalog:
    from babel.messages.pofile import read_po

    with po_path(language, locales).open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


def compile_catalogue(catalog: Catalog) -> gettext.GNUTranslations:
    """The catalogue as gettext reads it; fuzzy entries are left out, as ``msgfmt`` does."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalogue of ``language``; a message it lacks is read from English."""
    compiled = compile_catalogue(read(language))
    if language != SOURCE_LANGUAGE:
        compiled.add_fallback(translations(SOURCE_LANGUAGE))
    return compiled


@cache
def message_keys() -> frozenset[str]:
    return frozenset(key(m) for m in read(SOURCE_LANGUAGE) if m.id)


@cache
def plural_keys() -> frozenset[str]:
    """The keys of messages that have plural forms (chosen by their ``{count}``)."""
    return frozenset(key(m) for m in read(SOURCE_LANGUAGE) if m.id and m.pluralizable)


def key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else str(message.id[0])


def forms(message: Message) -> tuple[str, ...]:
    """A message's text: one form, or one per plural form ("" where untranslated)."""
    if isinstance(message.string, list | tuple):
        return tuple(form or "" for form in message.string)
    return (message.string or "",)
