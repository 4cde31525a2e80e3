"""Keeping translations in step with English: the template, the update, the checks.

``en.po`` is the source. After changing it, ``python -m bot.flows.translating`` writes
``messages.pot`` from it and brings every other catalogue up to the template, as
``pybabel update`` would, and more: because message ids are keys, a reworded English message
keeps its msgid, so gettext would not notice; here each translation of a message whose English
changed since the last template is marked fuzzy. ``python -m bot.flows.translating --check``
compiles each catalogue and lists what keeps it from being complete (``make test`` runs it).
A new language starts with ``pybabel init -i bot/locales/messages.pot -d bot/locales -D hirebot
-l xx``.
"""

from __future__ import annotations

import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from bot.flows.catalogues import (
    DOMAIN,
    LOCALES,
    SOURCE_LANGUAGE,
    compile_catalogue,
    forms,
    key,
    languages,
    po_path,
    read,
)


def template_path(locales: Path = LOCALES) -> Path:
    return locales / "messages.pot"


def template(locales: Path = LOCALES) -> Catalog:
    """Every key of ``en.po``, with its notes and its English text as comments."""
    english = read(SOURCE_LANGUAGE, locales)
    pot = Catalog(
        domain=DOMAIN,
        project="hirebot",
        msgid_bugs_address="",
        copyright_holder="",
        fuzzy=False,
        creation_date=english.creation_date,  # written again, the template stays the same
        header_comment="# What hirebot's candidates read, by key (see bot/flows/translating.py).",
    )
    for message in english:
        if not message.id:
            continue
        source = [f"English: {line}" for form in forms(message) for line in form.splitlines()]
        pot.add(message.id, auto_comments=[*message.auto_comments, *source])
    return pot


def comments(catalog: Catalog) -> dict[str, str]:
    """Each key's comments as words (tools wrap them at different widths)."""
    return {key(m): " ".join(" ".join(m.auto_comments).split()) for m in catalog if m.id}


def update(locales: Path = LOCALES) -> dict[str, list[str]]:
    """Write the template from ``en.po`` and bring each translation up to it.

    New keys arrive untranslated, keys gone from English are dropped, and a key whose
    English changed is marked fuzzy. Returns, per language, the keys that now need a
    translator.
    """
    new = template(locales)
    path = template_path(locales)
    before = comments(_read_template(path)) if path.exists() else {}
    changed = {k for k, text in comments(new).items() if k in before and before[k] != text}
    with path.open("wb") as file:
        write_po(file, new, sort_output=False)
    todo: dict[str, list[str]] = {}
    for language in languages(locales):
        if language == SOURCE_LANGUAGE:
            continue
        catalog = read(language, locales)
        catalog.update(new, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for k in changed:
            if k in catalog:
                catalog[k].flags.add("fuzzy")
        with po_path(language, locales).open("wb") as file:
            write_po(file, catalog, sort_output=False)
        todo[language] = [key(m) for m in catalog if m.id and (m.fuzzy or not all(forms(m)))]
    return todo


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
        if k in source:
            found += _message_problems(k, message, source[k], catalog.num_plurals)
    return found


def _message_problems(k: str, message: Message, english: Message, plurals: int) -> list[str]:
    found = [f"{k}: fuzzy"] if message.fuzzy else []
    if message.pluralizable != english.pluralizable:
        return [*found, f"{k}: plural forms where English has none, or the other way round"]
    texts = forms(message)
    if message.pluralizable and len(texts) != plurals:
        found.append(f"{k}: {len(texts)} plural forms, the language has {plurals}")
    if not all(texts):
        return [*found, f"{k}: not translated"]
    try:
        english_forms = [placeholders(text) for text in forms(english)]
        last, others = placeholders(texts[-1]), [placeholders(text) for text in texts[:-1]]
    except ValueError as err:
        return [*found, f"{k}: unreadable placeholders ({err})"]
    if last != english_forms[-1]:
        found.append(f"{k}: placeholders {sorted(last)}, English has {sorted(english_forms[-1])}")
    allowed = set().union(*english_forms)
    found += [
        f"{k}: placeholders {sorted(form - allowed)} are not English's"
        for form in others
        if not form <= allowed
    ]
    return found


def check(locales: Path = LOCALES) -> list[str]:
    """Compile every catalogue as the bot will; every problem, naming its file."""
    english = read(SOURCE_LANGUAGE, locales)
    found = []
    for language in languages(locales):
        catalog = read(language, locales)
        compile_catalogue(catalog)
        where = po_path(language, locales).relative_to(locales.parent.parent)
        found += [f"{where}: {problem}" for problem in problems(catalog, english)]
    pot = template_path(locales)
    if comments(_read_template(pot)) != comments(template(locales)):
        where = pot.relative_to(locales.parent.parent)
        found.append(f"{where}: older than en.po: run python -m bot.flows.translating")
    return found


def _read_template(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, domain=DOMAIN)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        found = check()
        for problem in found:
            print(problem)
        print(f"{len(languages())} catalogues compiled, {len(found)} problems")
        return 1 if found else 0
    for language, keys in update().items():
        print(f"{language}: {len(keys)} to translate{': ' if keys else ''}{', '.join(keys)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
