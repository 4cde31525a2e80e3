"""The gettext catalogues: complete, translated, with English's placeholders, compiled by Babel."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po, write_po

from bot.flows import catalogues, texts, translating
from bot.flows.openings import ANSWER_TYPES

LANGUAGES = catalogues.languages()
FLOWS = Path(catalogues.__file__).parent

# The deadline every rendering below uses: Monday 30 November 2026, 10:00 UTC, which is
# 11:00 in Berlin, the candidate's time zone.
DEADLINE = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
DEADLINE_IN_BERLIN = {
    "en": "Mon 30 Nov 2026, 11:00 Europe/Berlin",
    "de": "Mo., 30. Nov. 2026, 11:00 Uhr (Europe/Berlin)",
    "es": "lun, 30 nov 2026, 11:00 (Europe/Berlin)",
    "fr": "lun. 30 nov. 2026, 11:00 (Europe/Berlin)",
}
# A translation may read exactly like English where the languages agree; anything else
# identical to English is a message nobody translated.
SAME_AS_ENGLISH = {"seconds", "minutes"}  # "45 s", "2:05 min"


def test_the_four_languages_have_catalogues() -> None:
    assert LANGUAGES == ("en", "de", "es", "fr")
    assert texts.language_names() == {
        "en": "English",
        "de": "Deutsch",
        "es": "Español",
        "fr": "Français",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_catalogue_has_every_message_translated_with_englishs_placeholders(
    language: str,
) -> None:
    catalog = catalogues.read(language)
    assert translating.problems(catalog, catalogues.read("en")) == []
    # Babel's own checks (plural forms, python-format) agree.
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def test_the_checks_find_a_missing_fuzzy_untranslated_or_misplaced_message() -> None:
    catalog = catalogues.read("de")
    del catalog["team_reminder"]
    catalog["help"].flags.add("fuzzy")
    catalog["submit"].string = ""
    catalog["extension_denied"].string = "Hallo {name}, es bleibt bei der Frist."
    catalog["minutes"].string = "{m}:{s} Min."
    catalog["status"].string = (
        "{opening}: {answered} von {total} Frage.",
        "{opening}: {answered} von {count} Fragen. Frist: {deadline}.",
    )
    assert sorted(translating.problems(catalog, catalogues.read("en"))) == [
        "extension_denied: placeholders ['name'], English has ['deadline', 'name', 'opening']",
        "help: fuzzy",
        "minutes: placeholders ['m', 's'], English has ['m', 's:02d']",
        "status: placeholders ['total'] are not English's",
        "submit: not translated",
        "team_reminder: missing",
    ]


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_no_message_is_left_in_english(language: str) -> None:
    english = {catalogues.key(m): catalogues.forms(m) for m in catalogues.read("en") if m.id}
    same = {
        catalogues.key(m)
        for m in catalogues.read(language)
        if m.id and catalogues.forms(m)[-1] == english[catalogues.key(m)][-1]
    }
    assert same <= SAME_AS_ENGLISH


def test_the_template_lists_every_english_message_with_its_text() -> None:
    with translating.template_path().open("rb") as file:
        on_disk = read_po(file)
    # If this fails, run `python -m bot.flows.translating` (see its docstring).
    assert translating.comments(on_disk) == translating.comments(translating.template())
    assert translating.check() == []


def test_rewording_english_marks_its_translations_fuzzy_and_a_new_message_untranslated(
    tmp_path: Path,
) -> None:
    locales = tmp_path / "bot" / "locales"
    shutil.copytree(catalogues.LOCALES, locales)
    english = catalogues.read("en", locales)
    english["ready"].string = "I'm ready"
    english.add("goodbye", "Goodbye, {name}!")
    with catalogues.po_path("en", locales).open("wb") as file:
        write_po(file, english, sort_output=False)
    assert "bot/locales/messages.pot: older than en.po" in " ".join(translating.check(locales))

    todo = translating.update(locales)

    assert todo == {
        "de": ["ready", "goodbye"],
        "es": ["ready", "goodbye"],
        "fr": ["ready", "goodbye"],
    }
    german = catalogues.read("de", locales)
    assert german["ready"].fuzzy and german["ready"].string == "Bereit"
    assert not german["submit"].fuzzy
    assert sorted(translating.check(locales)) == [
        f"bot/locales/{language}/LC_MESSAGES/hirebot.po: {problem}"
        for language in ("de", "es", "fr")
        for problem in ("goodbye: not translated", "ready: fuzzy")
    ]
    # Translated again, the catalogue is complete; the template stays as it is.
    german["ready"].flags.discard("fuzzy")
    german["goodbye"].string = "Auf Wiedersehen, {name}!"
    with catalogues.po_path("de", locales).open("wb") as file:
        write_po(file, german, sort_output=False)
    assert not any("/de/" in problem for problem in translating.check(locales))
    assert translating.update(locales)["de"] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_babel_compiles_each_catalogue_for_gettext(language: str) -> None:
    compiled = catalogues.compile_catalogue(catalogues.read(language))
    assert compiled.info()["language"] == language
    welcome = catalogues.read(language)["welcome"]
    assert compiled.ngettext("welcome", "welcome", 1) == catalogues.forms(welcome)[0]
    assert compiled.ngettext("welcome", "welcome", 3) == catalogues.forms(welcome)[-1]
    assert compiled.gettext("consent") == catalogues.forms(catalogues.read(language)["consent"])[0]


def test_every_message_the_flows_name_is_in_the_catalogue() -> None:
    named = set()
    for path in FLOWS.glob("*.py"):
        source = path.read_text()
        named |= set(re.findall(r'\.(?:say|text)\(\s*"([a-z_.]+)"', source))
        named |= set(re.findall(r'texts\.text\(\s*\w+,\s*"([a-z_.]+)"', source))
        named |= set(re.findall(r'render\(\s*session,\s*\w+,\s*"([a-z_.]+)"', source))
        named |= set(re.findall(r'_tell_stranger\(\s*session,\s*person,\s*"([a-z_.]+)"', source))
    named |= {f"type.{kind}" for kind in ANSWER_TYPES}
    assert len(named) > 50  # the patterns above still find the flows' messages
    assert sorted(named - catalogues.message_keys()) == []


def _values(language: str, count: int) -> dict[str, object]:
    """Real values for every placeholder, formatted as the flows format them."""
    length = texts.length(language, 125)
    return {
        "name": "Hans",
        "opening": "Backend Engineer",
        "at_company": texts.text(language, "at_company", company="Acme"),
        "company": "Acme",
        "count": count,
        "deadline": texts.moment(language, DEADLINE, BERLIN),
        "when": texts.moment(language, DEADLINE, BERLIN),  # a live call's start
        "link": "https://meet.example.org/hirebot-room",
        "respond_by": texts.day(language, DEADLINE, BERLIN),
        "types": texts.list_types(language, ["voice", "video_note"]),
        "prep": texts.length(language, 30),
        "limit": length,
        "length": length,
        "takes": texts.text(language, "takes", count=3),
        "number": 2,
        "total": 3,
        "take": 1,
        "max_takes": 3,
        "answered": 1,
        "text": "What did you build last?",
        "limit_mb": 20,
        "stage": "Live interview",
        "timezone": "Europe/Berlin",
        "value": "Mars/Olympus",
        "moment": texts.moment(language, DEADLINE, BERLIN),
        "zone": "Europe/Berlin",
        "url": "https://meet.jit.si/hirebot-x",
        "n": 45,
        "m": 2,
        "s": 5,
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_renders_with_dates_in_the_candidates_language_and_zone(
    language: str,
) -> None:
    for key in sorted(catalogues.message_keys()):
        for count in (0, 1, 2, 5) if key in catalogues.plural_keys() else (1,):
            rendered = texts.text(language, key, **_values(language, count))
            assert "{" not in rendered and "}" not in rendered, (key, rendered)
            source = catalogues.forms(catalogues.read(language)[key])[-1]
            if "{deadline}" in source or "{when}" in source:
                assert DEADLINE_IN_BERLIN[language] in rendered, (key, rendered)
                assert "10:00" not in rendered and "UTC" not in rendered, (key, rendered)
    respond_by = texts.text(language, "completed", **_values(language, 3))
    assert DEADLINE_IN_BERLIN[language].split(", 11:00")[0] in respond_by


def test_plural_forms_follow_each_languages_rule() -> None:
    def rerecord(language: str, count: int) -> str:
        return texts.text(language, "rerecord", count=count)

    assert rerecord("es", 1) == "Grabar de nuevo 🔁 (te queda 1)"
    assert rerecord("es", 2) == "Grabar de nuevo 🔁 (te quedan 2)"
    # French counts 0 as singular; English and Spanish do not.
    assert texts.text("fr", "takes", count=0) == " (0 essai)"
    assert texts.text("es", "takes", count=0) == " (0 intentos)"
    assert texts.text("de", "takes", count=1) == " (1 Versuch)"
    assert texts.text("en", "status", count=1, opening="X", answered=0, deadline="D") == (
        "X: you've answered 0 of 1 question. Deadline: D."
    )


def test_a_language_without_a_catalogue_falls_back_to_english() -> None:
    assert texts.language_for("pt-BR") == "en"
    assert texts.language_for("de-AT") == "de"
    assert texts.language_for("fr_CA") == "fr"
    assert texts.language_for(None) == "en"
    assert texts.text("pt", "ready") == "Ready"
    assert texts.moment("pt", DEADLINE, ZoneInfo("UTC")) == "Mon 30 Nov 2026, 10:00 UTC"
    with pytest.raises(KeyError, match="no message 'nonsense'"):
        texts.text("de", "nonsense")
