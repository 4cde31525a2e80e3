"""Candidates read the bot in their language, with dates in their locale and time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from bot.flows import extensions, interview, openings, outgoing, pipeline, reminders
from bot.flows.interview import TelegramPerson
from bot.flows.outgoing import CandidateText
from bot.unit_of_work import UnitOfWork
from storage.models import OutboxMessage

# Monday 23 November 2026, midday in Berlin; the default deadline is a week later.
T0 = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
CHAT = 4242
# The deadline (30 Nov, 11:00 UTC), extended by three days, as each candidate in Berlin reads it.
DEADLINE = {
    "en": "Mon 30 Nov 2026, 12:00 Europe/Berlin",
    "de": "Mo., 30. Nov. 2026, 12:00 Uhr (Europe/Berlin)",
    "es": "lun, 30 nov 2026, 12:00 (Europe/Berlin)",
    "fr": "lun. 30 nov. 2026, 12:00 (Europe/Berlin)",
}
EXTENDED = {
    "en": "Thu 3 Dec 2026, 12:00 Europe/Berlin",
    "de": "Do., 3. Dez. 2026, 12:00 Uhr (Europe/Berlin)",
    "es": "jue, 3 dic 2026, 12:00 (Europe/Berlin)",
    "fr": "jeu. 3 déc. 2026, 12:00 (Europe/Berlin)",
}
WELCOME = {
    "en": "Welcome to your async interview for Backend Engineer at Acme.\nThere are 2 questions.",
    "de": "Interview für Backend Engineer bei Acme.\nEs gibt 2 Fragen.",
    "es": "entrevista asíncrona para Backend Engineer en Acme.\nHay 2 preguntas.",
    "fr": "pour le poste de Backend Engineer chez Acme.\nIl y a 2 questions.",
}


def _candidate_texts(session: Session) -> list[str]:
    rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    messages = [outgoing.read(r.kind, r.ordering_key, r.payload) for r in rows]
    return [m.text for m in messages if isinstance(m, CandidateText) and m.chat_id == CHAT]


def _invite_and_start(session: Session, language_code: str, **opening: object) -> TelegramPerson:
    spec = openings.OpeningSpec.model_validate(
        {
            "slug": "backend",
            "title": "Backend Engineer",
            "company": "Acme",
            "review_channel": "C0REVIEW",
            "questions": [{"text": "Why us?"}, {"text": "And?"}],
            **opening,
        }
    )
    openings.save(session, spec, T0)
    invitation = interview.invite(
        session, opening_slug="backend", candidate_name="Hans Meier", invited_by="U0RITA", now=T0
    )
    person = TelegramPerson(CHAT, CHAT, "Hans", language_code)
    interview.start(session, token=invitation.token, person=person, now=T0)
    return person


@pytest.mark.parametrize("language", ["en", "de", "es", "fr"])
def test_welcome_reminders_and_extensions_use_the_candidates_language_and_zone(
    uow: UnitOfWork, language: str
) -> None:
    def story(session: Session, _now: datetime) -> list[str]:
        person = _invite_and_start(session, language)
        interview.command(session, person=person, name="timezone", argument="Europe/Berlin", now=T0)
        pipeline.remind(session, who="Hans Meier", now=T0)
        extensions.extend(session, who="Hans Meier", days=3, by="U0RITA", now=T0)
        # 72 hours before the new deadline, at 12:00 in Berlin: not quiet hours.
        reminders.tick(session, T0 + timedelta(days=7))
        return _candidate_texts(session)

    welcome, _consent, _timezone_set, team_reminder, extended, before_deadline = uow.run_sync(story)
    assert WELCOME[language] in welcome
    assert DEADLINE[language] in team_reminder
    assert EXTENDED[language] in extended
    assert EXTENDED[language] in before_deadline
    for told in (team_reminder, extended, before_deadline):
        assert "UTC" not in told


def test_a_language_telegram_names_that_has_no_catalogue_gets_english(uow: UnitOfWork) -> None:
    def story(session: Session, _now: datetime) -> list[str]:
        _invite_and_start(session, "pt-BR")
        return _candidate_texts(session)

    welcome, consent = uow.run_sync(story)
    assert welcome.startswith("Hi Hans! Welcome to your async interview")
    assert "Mon 30 Nov 2026, 11:00 UTC" in welcome
    assert consent.endswith("Do you agree?")


def test_an_openings_own_wording_gets_its_deadline_in_the_openings_language(
    uow: UnitOfWork,
) -> None:
    """The team wrote this message in German: its date reads German, in the candidate's zone."""

    def story(session: Session, _now: datetime) -> list[str]:
        own = {"extension_approved": "Hallo {name}, Ihre neue Frist: {deadline}."}
        person = _invite_and_start(session, "en", language="de", candidate_messages=own)
        interview.command(session, person=person, name="timezone", argument="Asia/Tokyo", now=T0)
        extensions.extend(session, who="Hans Meier", days=3, by="U0RITA", now=T0)
        return _candidate_texts(session)

    extended = uow.run_sync(story)[-1]
    assert extended == "Hallo Hans, Ihre neue Frist: Do., 3. Dez. 2026, 20:00 Uhr (Asia/Tokyo)."
