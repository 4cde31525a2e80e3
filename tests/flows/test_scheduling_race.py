"""Two candidates press the same slot at the same moment, each on its own engine and
connection (as two bot processes would), through the whole pick flow: one call is booked,
the other candidate hears the apology with the next free times. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, time
from pathlib import Path

from sqlmodel import Session, col, select

from bot.flows import interview, interviewer_hours, openings, scheduling
from bot.flows.availability import DailyHours, WeeklyHours
from bot.flows.interview import TelegramPerson
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import UnitOfWork, opened
from storage.models import (
    Booking,
    BookingSeat,
    Candidate,
    Interview,
    InterviewerHours,
    Opening,
    OutboxMessage,
    Stage,
)

NOW = datetime(2027, 3, 12, 0, 0, tzinfo=UTC)
ALEX = "U0ALEX"
SLOT = "Fri 12 Mar 2027, 14:00"  # 09:00 in New York, shown in UTC (the opening's zone)


def _setup(uow: UnitOfWork) -> list[TelegramPerson]:
    spec = openings.parse(OPENING_FILE)

    def prepare(session: Session, now: datetime) -> list[TelegramPerson]:
        opening, _ = openings.save(session, spec, now)
        opening.interviewers = [ALEX]
        row = InterviewerHours(interviewer=ALEX, time_zone="America/New_York", updated_at=now)
        hours = WeeklyHours(
            "America/New_York", tuple(DailyHours(d, time(9), time(12)) for d in range(5)), 60
        )
        interviewer_hours.store_hours(row, hours, now)
        session.add(row)
        people = []
        for number in (1, 2):
            invited = interview.invite(
                session,
                opening_slug=spec.slug,
                candidate_name=f"Cand {number}",
                invited_by="U1",
                now=now,
            )
            found = session.get_one(Interview, invited.interview_id)
            found.stage = Stage.LIVE_INTERVIEW
            candidate = session.get_one(Candidate, found.candidate_id)
            candidate.telegram_user_id = candidate.telegram_chat_id = 800_000 + number
            people.append(TelegramPerson(800_000 + number, 800_000 + number, "Cand", "en"))
            session.flush()
            scheduling.offer(session, found, now)
        assert opening.id is not None
        return people

    return uow.run_sync(prepare)


def _messages(uow: UnitOfWork, chat_id: int) -> list[dict[str, object]]:
    def read(session: Session, _now: datetime) -> list[dict[str, object]]:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [
            dict(r.payload)
            for r in rows
            if r.kind == "candidate.text" and r.payload.get("chat_id") == chat_id
        ]

    return uow.run_sync(read)


def _button(message: dict[str, object], label: str) -> str:
    rows = message.get("choices")
    assert isinstance(rows, list)
    return next(str(c["data"]) for row in rows for c in row if c["label"] == label)


def test_two_candidates_pressing_one_slot_at_once_get_one_call_and_one_apology(
    uow: UnitOfWork, database_url: str, tmp_path: Path
) -> None:
    uow.now = lambda: NOW
    people = _setup(uow)
    presses = [_button(_messages(uow, p.chat_id)[-1], SLOT) for p in people]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def pick(person: TelegramPerson, data: str) -> None:
        # Its own engine and connection pool: a second bot process, in all but the PID.
        with opened(database_url, tmp_path / f"media-{person.user_id}") as own:
            own.now = lambda: NOW
            start.wait()
            try:
                own.run_sync(lambda s, now: interview.press(s, person=person, data=data, now=now))
            except BaseException as err:
                errors.append(err)

    threads = [
        threading.Thread(target=pick, args=pair) for pair in zip(people, presses, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []

    def read(session: Session, _now: datetime) -> tuple[list[Booking], list[BookingSeat]]:
        return (
            list(session.exec(select(Booking)).all()),
            list(session.exec(select(BookingSeat).where(col(BookingSeat.live).is_(True))).all()),
        )

    booked, seats = uow.run_sync(read)
    assert len(booked) == 1 and len(seats) == 1
    assert seats[0].starts_at.replace(tzinfo=UTC) == datetime(2027, 3, 12, 14, tzinfo=UTC)
    last = {p.chat_id: _messages(uow, p.chat_id)[-1] for p in people}
    winner = next(p for p in people if p.chat_id == _chat_of(uow, booked[0].interview_id))
    loser = next(p for p in people if p is not winner)
    assert str(last[winner.chat_id]["text"]).startswith("Your live interview is booked:")
    apology = last[loser.chat_id]
    assert (
        apology["text"] == "Sorry, that time was just taken. Here are the next free times, in UTC:"
    )
    labels = [c["label"] for row in apology["choices"] for c in row]  # type: ignore[attr-defined]
    assert labels[:2] == ["Fri 12 Mar 2027, 15:00", "Fri 12 Mar 2027, 16:00"]
    assert SLOT not in labels


def _chat_of(uow: UnitOfWork, interview_id: int) -> int:
    def read(session: Session, _now: datetime) -> int:
        found = session.get_one(Interview, interview_id)
        chat = session.get_one(Candidate, found.candidate_id).telegram_chat_id
        assert chat is not None
        return chat

    return uow.run_sync(read)


def test_an_opening_with_no_interviewers_says_so_in_the_thread(uow: UnitOfWork) -> None:
    uow.now = lambda: NOW
    _setup(uow)

    def clear_and_offer(session: Session, now: datetime) -> str:
        session.exec(select(Opening)).one().interviewers = []
        found = session.exec(select(Interview).order_by(col(Interview.id))).first()
        assert found is not None
        return scheduling.offer(session, found, now)

    line = uow.run_sync(clear_and_offer)
    assert line.startswith("⚠️ *Backend Engineer* names no interviewers")
