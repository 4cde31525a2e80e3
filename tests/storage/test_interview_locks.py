"""Two processes changing one interview take turns (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from bot.errors import IllegalTransition
from bot.flows import extensions, interview, openings, reminders
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import UnitOfWork
from storage import interviews
from storage.models import Decision, ExtensionRequest, Interview, InterviewStatus


def test_a_second_change_to_an_interview_waits_for_the_first_and_sees_it(
    uow: UnitOfWork, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite allows one writer at a time; row locks are PostgreSQL's")
    interview_id = _invited(uow, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    first_holds_lock = threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with Session(uow.db.engine) as session:
            row = interviews.locked(session, interview_id)
            assert row is not None
            first_holds_lock.set()
            _until_another_waits_for_a_lock(uow)
            row.stage = "Live interview"
            seen["first_committing"] = time.monotonic()
            session.commit()

    def second() -> None:
        first_holds_lock.wait(5)
        with Session(uow.db.engine) as session:
            row = interviews.locked(session, interview_id)
            assert row is not None
            seen["second_locked"] = time.monotonic()
            seen["stage"] = row.stage
            session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    # The second got the row only once the first was committing, and saw its change.
    assert seen["second_locked"] >= seen["first_committing"]  # type: ignore[operator]
    assert seen["stage"] == "Live interview"


def _invited(uow: UnitOfWork, now: datetime) -> int:
    """Jane Doe invited to the sample opening: her interview's id."""
    spec = openings.parse(OPENING_FILE)
    uow.run_sync(lambda s, _now: openings.save(s, spec, now))
    invitation = uow.run_sync(
        lambda s, _now: interview.invite(
            s, opening_slug=spec.slug, candidate_name="Jane Doe", invited_by="U1", now=now
        )
    )
    return invitation.interview_id


def _extension_requested(uow: UnitOfWork, now: datetime) -> tuple[int, int]:
    """An invited candidate asked for more time: (interview id, request id)."""
    interview_id = _invited(uow, now)
    uow.run_sync(
        lambda s, _now: extensions.request_more_time(s, interview_id=interview_id, now=now)
    )
    request_id = uow.run_sync(lambda s, _now: s.exec(select(ExtensionRequest.id)).one())
    assert request_id is not None
    return interview_id, request_id


def _hold_open(
    uow: UnitOfWork, work: Callable[[Session], object], holding: threading.Event
) -> None:
    """Run ``work`` in a transaction kept open until another one waits for its locks, as a
    slow process's would be."""
    with Session(uow.db.engine) as session:
        work(session)
        holding.set()
        _until_another_waits_for_a_lock(uow)
        session.commit()


def _until_another_waits_for_a_lock(uow: UnitOfWork, seconds: float = 10.0) -> None:
    """Return once another transaction is blocked on a lock in this database.

    If none ever blocks (a change that forgot to lock), give up after ``seconds``: the
    test's assertions then say what went wrong.
    """
    deadline = time.monotonic() + seconds
    with uow.db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting:
                return
            watcher.rollback()  # a fresh snapshot of pg_stat_activity next time
            time.sleep(0.01)


def _race(
    uow: UnitOfWork, first: Callable[[Session], object], second: Callable[[Session], object]
) -> dict[str, object]:
    """``first`` holds its transaction open while ``second`` runs: what ``second`` got
    (``result``, or ``refused`` with the sentence of its IllegalTransition)."""
    holding, seen = threading.Event(), dict[str, object]()
    slow = threading.Thread(target=_hold_open, args=(uow, first, holding))
    slow.start()
    holding.wait(5)  # ``first`` has done its work and not committed yet
    try:
        with Session(uow.db.engine) as session:
            seen["result"] = second(session)
            session.commit()
    except IllegalTransition as err:
        seen["refused"] = str(err)
    slow.join(10)
    return seen


def test_two_approvals_of_one_extension_request_cannot_both_win(
    uow: UnitOfWork, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite allows one writer at a time; row locks are PostgreSQL's")
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    interview_id, request_id = _extension_requested(uow, now)
    deadline = uow.run_sync(lambda s, _now: s.get_one(Interview, interview_id).deadline_at)

    def approve(by: str) -> Callable[[Session], object]:
        return lambda s: extensions.decide(s, request_id=request_id, approve=True, by=by, now=now)

    second = _race(uow, approve("U1"), approve("U2"))

    assert second == {"refused": "This request was already approved by <@U1>."}
    decisions = uow.run_sync(lambda s, _now: s.exec(select(Decision.kind, Decision.by)).all())
    assert decisions == [("extend", "U1")]
    assert uow.run_sync(lambda s, _now: s.get_one(Interview, interview_id).deadline_at) == (
        deadline + timedelta(days=3)
    )


def test_an_approval_racing_the_deadline_tick_reopens_the_expired_interview(
    uow: UnitOfWork, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite allows one writer at a time; row locks are PostgreSQL's")
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    interview_id, request_id = _extension_requested(uow, now)
    later = now + timedelta(days=8)  # past the 7-day deadline

    # The tick expires the interview and has not committed when the approval comes.
    _race(
        uow,
        lambda s: reminders.tick(s, later),
        lambda s: extensions.decide(s, request_id=request_id, approve=True, by="U1", now=later),
    )

    # The approval waited for the tick, saw the interview expired, and reopened it.
    row = uow.run_sync(lambda s, _now: s.get_one(Interview, interview_id))
    assert row.status == InterviewStatus.INVITED
    assert row.deadline_at == later + timedelta(days=3)
