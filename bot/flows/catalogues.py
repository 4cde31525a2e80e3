"""The gettext catalogues candidates are written to, read with Babel.

``bot/locales/<language>/LC_MESSAGES/hirebot.po`` holds one language; ``bot/locales/messages.pot``
is the template translators start from (``pybabel init``/``update -D hirebot -d bot/locales``).

Message ids are stable keys ("welcome", "not_media.photo"), not English sentences: openings and
code refer to messages by key, an English rewording does not orphan every translation, and a
test can check that each catalogue has exactly the template's keys, none fuzzy or empty, with
the placeholders of the English text (``en.po`` holds the English wording like any other
language). A plural message has its key as both msgid and msgid_plural and is chosen by its
``{count}`` value.

There is no build step and no ``.mo`` file: the first use of a language compiles its ``.po`` in
memory with Babel (``read_po`` → ``write_mo``) into a standard ``gettext.GNUTranslations``, so a
fresh clone or an installed wheel works as is, and an edited ``.po`` is what runs. The tests
compile every catalogue the same way (``make test`` therefore compiles them all).
``python -m bot.flows.catalogues`` writes the template again from ``en.po``;
``python -m bot.flows.catalogues --check`` compiles each catalogue and lists its problems
(``make test`` runs it before pytest).
"""

from __future__ import annotations

import gettext
import io
import string
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel's catalogue tooling is only needed when a catalogue is first read
    from babel.messages.catalog import Catalog, Message

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "hirebot"
TEMPLATE = LOCALES / "messages.pot"
SOURCE_LANGUAGE = "en"


def po_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def languages() -> tuple[str, ...]:
    """Every language with a catalogue, English first."""
    found = sorted(p.parent.parent.name for p in LOCALES.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (SOURCE_LANGUAGE, *(code for code in found if code != SOURCE_LANGUAGE))


def read(language: str) -> Catalog:
    from babel.messages.pofile import read_po

    with po_path(language).open("rb") as file:
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
    if isinstance(message.string, str):
        return (message.string,)
    return tuple(form or "" for form in message.string or ())


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a message as written ("count", "s:02d")."""
    return {
        name + (f":{spec}" if spec else "")
        for _, name, spec, _ in string.Formatter().parse(text)
        if name is not None
    }


def problems(catalog: Catalog, english: Catalog) -> list[str]:
    """What keeps ``catalog`` from saying everything English says, one sentence each.

    Every key of the English catalogue, translated (not empty, not fuzzy), with English's
    placeholders. A plural form other than the last may leave out a placeholder ("your
    answer" rather than "1 answer"), but only one that English has.
    """
    found: list[str] = []
    source = {key(m): m for m in english if m.id}
    have = {key(m): m for m in catalog if m.id}
    found += [f"{k}: missing" for k in source if k not in have]
    found += [f"{k}: not an English message" for k in have if k not in source]
    for k, message in have.items():
        if k not in source:
            continue
        if message.fuzzy:
            found.append(f"{k}: fuzzy")
        if message.pluralizable != source[k].pluralizable:
            found.append(f"{k}: plural forms where English has none, or the other way round")
            continue
        texts = forms(message)
        if message.pluralizable and len(texts) != catalog.num_plurals:
            found.append(f"{k}: {len(texts)} plural forms, the language has {catalog.num_plurals}")
        if not all(texts):
            found.append(f"{k}: not translated")
            continue
        try:
            english_forms = [placeholders(text) for text in forms(source[k])]
            last, others = placeholders(texts[-1]), [placeholders(text) for text in texts[:-1]]
        except ValueError as err:
            found.append(f"{k}: unreadable placeholders ({err})")
            continue
        if last != english_forms[-1]:
            found.append(
                f"{k}: placeholders {sorted(last)}, English has {sorted(english_forms[-1])}"
            )
        allowed = set().union(*english_forms)
        for form in others:
            if not form <= allowed:
                found.append(f"{k}: placeholders {sorted(form - allowed)} are not English's")
    return found


def template() -> Catalog:
    """The template for translators: every key, with the English text as a comment."""
    from babel.messages.catalog import Catalog

    english = read(SOURCE_LANGUAGE)
    pot = Catalog(
        domain=DOMAIN,
        project="hirebot",
        msgid_bugs_address="",
        copyright_holder="",
        fuzzy=False,
        creation_date=english.creation_date,  # written again, the template stays the same
        header_comment="# What hirebot's candidates read, by key (see bot/flows/catalogues.py).",
    )
    for message in english:
        if not message.id:
            continue
        source = [f"English: {line}" for form in forms(message) for line in form.splitlines()]
        pot.add(
            message.id,
            auto_comments=[*message.auto_comments, *source],
            flags=message.flags - {"fuzzy"},
        )
    return pot


def write_template() -> None:
    from babel.messages.pofile import write_po

    with TEMPLATE.open("wb") as file:
        write_po(file, template(), width=100, omit_header=False, sort_output=False)


def check() -> int:
    """Compile every catalogue as the bot will and report what is missing; 1 on a problem."""
    english = read(SOURCE_LANGUAGE)
    failed = 0
    for language in languages():
        catalog = read(language)
        compile_catalogue(catalog)
        found = problems(catalog, english)
        print(f"{language}: {sum(1 for m in catalog if m.id)} messages, {len(found)} problems")
        for problem in found:
            print(f"  {po_path(language).relative_to(LOCALES.parent.parent)}: {problem}")
        failed |= bool(found)
    return failed


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    write_template()
