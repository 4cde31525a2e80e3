"""The rules of relays and questions back (issue 11), flow by flow: who may send, once only,
what the thread and the candidate are told, and the limits on questions."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.errors import IllegalTransition, InvalidRequest, NotAllowed, NotFound
from bot.flows import interview, relay
from bot.flows.relay import RelayKind
from bot.limits import RelayLimit
from storage.models import CandidateQuestion, Relay, RelayStatus, ReviewPost
from tests.helpers.flows import RECRUITER, REVIEW_CHANNEL, Candidate, FlowWorld

TEAMMATE = "U0TOM"
RELAY = "candidate.relay"


def _jane(world: FlowWorld, *, blind: bool = False, language: str = "en") -> Candidate:
    world.opening(blind_review=blind)
    jane = world.invite()
    world.agree(jane)
    world.run(  # /language: what she reads from now on
        lambda s, now: interview.command(
            s, person=jane.person, name="language", argument=language, now=now
        )
    )
    return jane


def _draft(world: FlowWorld, jane: Candidate, by: str = RECRUITER, text: str = "Hi") -> int:
    made = world.run(
        lambda s, now: relay.draft(
            s,
            interview_id=jane.interview_id,
            by=by,
            recruiters=[RECRUITER],
            kind=RelayKind.TEXT,
            text=text,
            now=now,
        )
    )
    return made.relay_id


def _confirm(world: FlowWorld, relay_id: int, text: str, by: str = RECRUITER) -> str:
    return world.run(
        lambda s, now: relay.confirm(
            s, relay_id=relay_id, by=by, recruiters=[RECRUITER], text=text, now=now
        )
    )


def test_a_confirmed_relay_is_queued_once_and_said_in_the_thread(world: FlowWorld) -> None:
    jane = _jane(world)
    relay_id = _draft(world, jane)
    line = _confirm(world, relay_id, "We'd like to meet you.")
    assert line.startswith("Sending a message to Jane Doe")
    with pytest.raises(IllegalTransition, match="sent already"):
        _confirm(world, relay_id, "We'd like to meet you.")
    (row,) = world.outbox(RELAY)
    assert row.payload == {"kind": RELAY, "chat_id": jane.chat_id, "relay_id": relay_id}
    assert row.ordering_key == f"tg:{jane.chat_id}"
    (note,) = [n for n in world.thread_notes() if n.startswith("📨")]
    assert "📨 Sent to Jane Doe at <!date^" in note and f"by <@{RECRUITER}>: a message" in note
    assert note.endswith("> We'd like to meet you.")


def test_only_recruiters_draft_and_confirm(world: FlowWorld) -> None:
    jane = _jane(world)
    with pytest.raises(NotAllowed):
        _draft(world, jane, by=TEAMMATE)
    relay_id = _draft(world, jane)
    with pytest.raises(NotAllowed):  # a form kept or forged by someone else
        _confirm(world, relay_id, "Hi", by=TEAMMATE)
    assert world.outbox(RELAY) == []


def test_a_message_over_telegrams_limit_is_refused_with_the_number(world: FlowWorld) -> None:
    jane = _jane(world)
    relay_id = _draft(world, jane)
    with pytest.raises(InvalidRequest, match=r"at most \d+ characters here; this has 4096"):
        _confirm(world, relay_id, "x" * RelayLimit.TEXT_CHARS)
    with pytest.raises(InvalidRequest, match="Write the message"):
        _confirm(world, relay_id, "   ")


def test_blind_review_threads_name_the_alias_and_the_candidate_reads_their_language(
    world: FlowWorld,
) -> None:
    jane = _jane(world, blind=True, language="de")
    relay_id = _draft(world, jane)
    _confirm(world, relay_id, "Danke!")
    (note,) = [n for n in world.thread_notes() if n.startswith("📨")]
    assert "Sent to Candidate #1 at" in note and "Jane" not in note
    found = world.read(lambda s: relay.to_send(s, relay_id))
    assert found is not None
    chat_id, sending = found
    assert chat_id == jane.chat_id
    assert sending.text == "💬 Vom Recruiting-Team für Backend Engineer:\n\nDanke!"


def test_outside_a_candidate_thread_and_unreachable_candidates_are_refused(
    world: FlowWorld,
) -> None:
    world.opening()
    stranger = world.invite("Sam Roe")  # invited, never opened Telegram
    with pytest.raises(InvalidRequest, match="not opened their interview in Telegram"):
        _draft(world, stranger)

    def posted(session: Session) -> None:
        post = session.exec(select(ReviewPost)).one()
        post.message_id = "1700000000.000100"
        session.commit()

    world.read(posted)
    found = world.read(lambda s: relay.interview_in_thread(s, REVIEW_CHANNEL, "1700000000.000100"))
    assert found == stranger.interview_id
    outside: list[tuple[str, str | None]] = [
        ("C0OTHER", "1700000000.000100"),
        (REVIEW_CHANNEL, "1.2"),
        ("", None),
    ]
    for channel, thread in outside:

        def look(session: Session, c: str = channel, t: str | None = thread) -> int:
            return relay.interview_in_thread(session, c, t)

        with pytest.raises(InvalidRequest, match="Send to candidate"):
            world.read(look)


def test_delivery_and_refusal_are_told_in_the_thread(world: FlowWorld) -> None:
    jane = _jane(world)
    sent, blocked = _draft(world, jane), _draft(world, jane)
    _confirm(world, sent, "One")
    _confirm(world, blocked, "Two")
    world.run(lambda s, now: relay.delivered(s, sent, now))
    reason = "Telegram refused: Forbidden: bot was blocked by the user"
    world.run(lambda s, now: relay.refused(s, blocked, reason, now))
    edits = [str(r.payload["text"]) for r in world.outbox("review.thread.edit")]
    assert edits[0].endswith("✅ Delivered in Telegram at " + edits[0].split("at ")[-1])
    assert edits[1].endswith("⚠️ Not delivered: the candidate blocked hirebot in Telegram.")
    statuses = world.read(lambda s: [r.status for r in s.exec(select(Relay)).all()])
    assert statuses == [RelayStatus.SENT, RelayStatus.FAILED]
    assert world.read(lambda s: relay.to_send(s, sent)) is None  # never sent twice


def test_questions_need_consent_and_are_limited_per_day(world: FlowWorld) -> None:
    world.opening()
    jane = world.invite()
    world.start(jane)  # not agreed yet

    def ask(text: str) -> None:
        world.run(
            lambda s, now: interview.command(
                s, person=jane.person, name="ask", argument=text, now=now
            )
        )

    ask("Is it remote?")
    assert world.texts_to(jane)[-1].startswith("You can ask the hiring team questions once")
    world.press(jane, "I agree")
    ask("")
    assert world.texts_to(jane)[-1].startswith("Type your question after /ask")
    for n in range(RelayLimit.QUESTIONS_PER_DAY + 1):
        world.advance(hours=1)
        ask(f"Question {n}?")
    assert world.texts_to(jane)[-1].startswith(
        f"You can send the hiring team up to {RelayLimit.QUESTIONS_PER_DAY} questions a day. "
        "You can ask again from Fri 27 Nov 2026, 13:00"
    )
    world.advance(hours=22)  # a day after the first
    ask("One more?")
    assert world.texts_to(jane)[-1].startswith("I've passed your question")
    asked = world.read(lambda s: len(s.exec(select(CandidateQuestion)).all()))
    assert asked == RelayLimit.QUESTIONS_PER_DAY + 1
    buttons = [
        r.payload["choices"]
        for r in world.outbox("review.thread.post")
        if "❓" in r.payload["text"]
    ]
    assert all(b[0]["label"] == "↩️ Reply to candidate" for b in buttons)


def test_nothing_unsent_is_kept_past_a_day(world: FlowWorld) -> None:
    jane = _jane(world)
    kept = _draft(world, jane)
    _confirm(world, kept, "Sent")
    forgotten = _draft(world, jane)
    world.run(lambda s, now: interview.expects_text(s, person=jane.person, text="Hm?", now=now))
    assert world.texts_to(jane)[-1] == "Send this to the hiring team as a question?"
    world.advance(hours=RelayLimit.DRAFT_HOURS - 1)
    world.run(relay.forget_unsent)
    assert world.read(lambda s: len(s.exec(select(CandidateQuestion)).all())) == 1
    world.advance(hours=2)
    world.run(relay.forget_unsent)
    assert world.read(lambda s: s.exec(select(CandidateQuestion)).all()) == []
    assert world.read(lambda s: [r.id for r in s.exec(select(Relay)).all()]) == [kept]
    with pytest.raises(NotFound, match=r"use \*Send to candidate\* again"):
        _confirm(world, forgotten, "Too late")
