"""Email to a candidate: the invitation when the recruiter gives an address, and decisions
for a candidate who never opened Telegram (the outbox rows the flows write)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.errors import InvalidRequest
from bot.flows import outgoing, pipeline, reminders
from bot.flows.candidate_email import is_address
from storage.models import Candidate as CandidateRow
from tests.helpers.flows import (
    CANDIDATE_TEXT,
    DEEP_LINK,
    EMAIL,
    RECRUITER,
    FlowWorld,
)

JANE = "jane.doe@example.org"


def emails(world: FlowWorld, mark: int = 0) -> list[outgoing.Email]:
    found = []
    for row in world.since(mark, EMAIL):
        message = outgoing.read(row.kind, row.ordering_key, row.payload)
        assert isinstance(message, outgoing.Email)
        found.append(message)
    return found


def test_the_invitation_is_emailed_in_the_candidates_language_with_the_deep_link(
    world: FlowWorld,
) -> None:
    world.opening(
        title='Backend <script>alert("x")</script> & Co',
        company="Acme <b>GmbH</b>",
        timezone="Europe/Berlin",
        deadline_days=7,
    )
    jane = world.invite('<img/src=x/onerror="alert(1)"> Doe', email=JANE, language="de")
    assert jane.invitation.emailed
    (mail,) = emails(world)
    link = DEEP_LINK + jane.invitation.token
    assert mail.to == JANE and mail.interview_id == jane.interview_id
    assert mail.invitation is None
    assert mail.subject == (
        'Ihr Interview für Backend <script>alert("x")</script> & Co bei Acme <b>GmbH</b>'
    )
    # Plain text: the words as typed, the link on its own line.
    assert mail.text.startswith('Hallo <img/src=x/onerror="alert(1)">,\n\n')
    assert f"Interview in Telegram starten:\n{link}\n" in mail.text
    # The deadline: 7 days after T0 (Thursday noon UTC), in Berlin, in German.
    assert "bis Do., 3. Dez. 2026, 13:00 Uhr (Europe/Berlin)." in mail.text
    assert "nichts wird automatisch bewertet" in mail.text
    assert mail.text.rstrip().endswith("Viele Grüße\nAcme <b>GmbH</b>")
    # HTML: everything typed is escaped; the link is a button and again as text.
    assert "<script>" not in mail.html and "<img" not in mail.html and "<b>GmbH" not in mail.html
    assert "Hallo &lt;img/src=x/onerror=&quot;alert(1)&quot;&gt;," in mail.html
    assert "Backend &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in mail.html
    assert mail.html.count(f'href="{link}"') == 2
    assert ">Interview in Telegram starten</a>" in mail.html
    assert '<html lang="de">' in mail.html


def test_an_invitation_without_an_address_is_not_emailed(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    assert not jane.invitation.emailed and emails(world) == []


@pytest.mark.parametrize(
    "address",
    [
        "jane@example.org, boss@example.org",
        "jane@example.org\r\nBcc: boss@example.org",
        "Jane <jane@example.org>",
        "jane@localhost",
        "jane@@example.org",
        "j" * 250 + "@example.org",
    ],
)
def test_an_address_hirebot_cannot_send_to_is_refused_and_nothing_is_stored(
    world: FlowWorld, address: str
) -> None:
    world.opening()
    with pytest.raises(InvalidRequest, match="not an email address"):
        world.invite(email=address)
    assert world.read(lambda s: s.exec(select(CandidateRow)).all()) == []
    assert world.outbox() == []
    assert not is_address(address)


def test_a_decision_for_a_candidate_who_never_opened_telegram_goes_by_email(
    world: FlowWorld,
) -> None:
    world.opening(company="Acme")
    jane = world.invite(email=JANE)
    mark = world.mark()
    line = world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert line == (
        "Jane Doe advanced to Live interview. They haven't opened their invitation on "
        "Telegram, so they've been told by email."
    )
    (mail,) = emails(world, mark)
    assert mail.to == JANE and mail.interview_id == jane.interview_id
    assert mail.subject == "About your application for Backend Engineer at Acme"
    assert "Live interview" in mail.text and mail.text.rstrip().endswith("Best wishes,\nAcme")
    assert world.since(mark, CANDIDATE_TEXT) == []
    assert world.thread_notes()[-1] == (
        f"➡️ <@{RECRUITER}> advanced the candidate to *Live interview*. "
        "They were told by email (they never opened Telegram)."
    )


def test_an_opening_s_own_rejection_wording_is_escaped_in_the_email(world: FlowWorld) -> None:
    world.opening()
    world.invite(email=JANE)
    mark = world.mark()
    world.run(
        lambda s, now: pipeline.reject(
            s, who="Jane Doe", by=RECRUITER, now=now, message="Sorry <b>Jane</b>.\n\nAll the best"
        )
    )
    (mail,) = emails(world, mark)
    assert "<p>Sorry &lt;b&gt;Jane&lt;/b&gt;.</p>\n<p>All the best</p>" in mail.html
    assert mail.text.startswith("Sorry <b>Jane</b>.\n\nAll the best\n\n")
    assert world.thread_notes()[-1].endswith(
        "They were told by email (they never opened Telegram)."
    )


def test_once_they_opened_telegram_a_decision_goes_there_and_not_by_email(
    world: FlowWorld,
) -> None:
    world.opening()
    jane = world.invite(email=JANE)
    world.agree(jane)
    mark = world.mark()
    line = world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert line.endswith("They've been told on Telegram.")
    assert emails(world, mark) == [] and len(world.since(mark, CANDIDATE_TEXT)) == 1
    assert world.thread_notes()[-1].endswith("They were told on Telegram.")


def test_with_neither_telegram_nor_an_address_the_thread_says_they_could_not_be_told(
    world: FlowWorld,
) -> None:
    world.opening()
    world.invite()
    mark = world.mark()
    line = world.run(lambda s, now: pipeline.advance(s, who="Jane Doe", by=RECRUITER, now=now))
    assert line.endswith("could not be told on Telegram, and no email address was given.")
    assert emails(world, mark) == [] and world.since(mark, CANDIDATE_TEXT) == []
    assert world.thread_notes()[-1].endswith(
        "They could not be told: they never opened Telegram and no email address was given."
    )


def test_a_reminder_to_a_candidate_who_never_started_goes_by_email(world: FlowWorld) -> None:
    world.opening()
    world.invite(email=JANE)
    mark = world.mark()
    line = world.run(lambda s, now: pipeline.remind(s, who="Jane Doe", now=now))
    assert line.startswith("Reminded Jane Doe by email (deadline ")
    (mail,) = emails(world, mark)
    assert "a friendly reminder from the hiring team" in mail.text


def test_the_not_started_reminder_goes_by_email_once_and_the_team_hears(
    world: FlowWorld,
) -> None:
    world.opening(company="Acme", timezone="Europe/Paris")
    world.invite(email=JANE, language="fr")
    mark = world.mark()
    world.advance(hours=25)  # the opening's default: a reminder 24 h after the invitation
    assert world.run(reminders.tick) == 1
    (mail,) = emails(world, mark)
    assert mail.subject == "Rappel : votre entretien pour le poste de Backend Engineer chez Acme"
    assert mail.text.startswith("Bonjour Jane,\n\nun petit rappel : votre entretien")
    assert "jusqu'au jeu. 3 déc. 2026, 13:00 (Europe/Paris)." in mail.text
    assert world.thread_notes()[-1].endswith("I've reminded them by email.")
    world.advance(hours=1)
    world.run(reminders.tick)
    assert len(emails(world, mark)) == 1  # once per rule, as on Telegram
