"""Retention (issue 12): with a fixed clock, who is erased and who is kept, on SQLite and
PostgreSQL, and what the erasure leaves (the rows, the media file, the review thread)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from bot.cli import main
from bot.flows import interview, openings, retention
from bot.flows.openings import OpeningSpec
from bot.unit_of_work import UnitOfWork
from storage.models import (
    Answer,
    AuditEvent,
    Candidate,
    Interview,
    InterviewStatus,
    OutboxMessage,
    Question,
    Stage,
    TranscriptStatus,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CEILING = 730  # HIREBOT_RETENTION_MAX_DAYS's default


def _opening(uow: UnitOfWork, slug: str, retention_days: int | None = None) -> None:
    spec: dict[str, object] = {
        "slug": slug,
        "title": "Backend Engineer",
        "review_channel": "C0REVIEW01",
        "questions": [{"text": "Why this role?", "answer_types": ["voice", "text"]}],
    }
    if retention_days is not None:
        spec["retention_days"] = retention_days
    parsed = OpeningSpec.model_validate(spec)
    uow.run_sync(lambda s, now: openings.save(s, parsed, now))


def _candidate(
    uow: UnitOfWork,
    name: str,
    slug: str,
    *,
    email: str | None = None,
    stage: str = Stage.REJECTED,
    decided_days_ago: int | None = None,
) -> int:
    """An invited candidate with one recorded answer (a real file in the media folder),
    then decided ``decided_days_ago`` days before NOW."""
    invited = uow.run_sync(
        lambda s, now: interview.invite(
            s, opening_slug=slug, candidate_name=name, invited_by="U0RITA", now=now, email=email
        )
    )
    stored = uow.media.put(f"{name}'s voice".encode(), ".ogg")

    def answered(session: Session, now: datetime) -> None:
        found = session.get_one(Interview, invited.interview_id)
        question = session.exec(
            select(Question).where(Question.opening_id == found.opening_id)
        ).first()
        assert question is not None and question.id is not None
        session.add(
            Answer(
                interview_id=invited.interview_id,
                question_id=question.id,
                submitted=True,
                media_kind="voice",
                media_path=stored.relpath,
                text=f"{name} says: I like payments.",
                received_at=now,
                transcript_status=TranscriptStatus.DONE,
            )
        )
        found.status = InterviewStatus.COMPLETED
        if decided_days_ago is not None:
            found.stage = stage
            found.decided_at = now - timedelta(days=decided_days_ago)

    uow.run_sync(answered)
    return invited.interview_id


def _purge(uow: UnitOfWork) -> list[retention.Expired]:
    """What the periodic tick does: one look, then each erased in its own transaction."""
    found = uow.run_sync(lambda s, now: retention.due(s, now, CEILING))
    done = [uow.run_sync(retention.eraser(e.interview_id, CEILING)) for e in found]
    return [d for d in done if d is not None]


def _state(uow: UnitOfWork, interview_id: int) -> tuple[str, str, int, str | None]:
    def read(session: Session, _now: datetime) -> tuple[str, str, int, str | None]:
        found = session.get_one(Interview, interview_id)
        person = session.get_one(Candidate, found.candidate_id)
        answers = session.exec(select(Answer).where(Answer.interview_id == interview_id)).all()
        return found.status, person.name, len(answers), person.email

    return uow.run_sync(read)


def _thread_texts(uow: UnitOfWork, interview_id: int) -> list[str]:
    def read(session: Session, _now: datetime) -> list[str]:
        rows = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "review.thread.post")
            .order_by(col(OutboxMessage.id))
        ).all()
        return [
            str(r.payload.get("text", ""))
            for r in rows
            if r.ordering_key.endswith(f":{interview_id}")
        ]

    return uow.run_sync(read)


def _media_paths(uow: UnitOfWork) -> dict[int, str]:
    return uow.run_sync(
        lambda s, _n: {a.interview_id: str(a.media_path) for a in s.exec(select(Answer))}
    )


@pytest.fixture
def at_now(uow: UnitOfWork) -> UnitOfWork:
    uow.now = lambda: NOW
    return uow


def test_decided_181_days_ago_is_erased_and_179_days_ago_is_intact(
    at_now: UnitOfWork, tmp_path: Path
) -> None:
    _opening(at_now, "backend")  # retention_days left out: 180
    old = _candidate(at_now, "Jane Old", "backend", email="jane@example.com", decided_days_ago=181)
    recent = _candidate(at_now, "John Recent", "backend", decided_days_ago=179)
    hired_old = _candidate(at_now, "Hana Hired", "backend", stage=Stage.HIRED, decided_days_ago=200)
    # Advanced long ago but not decided for good: no clock runs.
    live = _candidate(
        at_now, "Lee Live", "backend", stage=Stage.LIVE_INTERVIEW, decided_days_ago=400
    )
    files = _media_paths(at_now)

    dry = at_now.run_sync(lambda s, now: retention.due(s, now, CEILING))
    assert [(e.interview_id, e.opening_slug, e.basis, e.days, e.kept_days) for e in dry] == [
        (old, "backend", "decided", 181, 180),
        (hired_old, "backend", "decided", 200, 180),
    ]
    assert "Jane" not in dry[0].line and dry[0].line.startswith(f"#{old}  backend  decided ")

    erased = _purge(at_now)
    assert [e.interview_id for e in erased] == [old, hired_old]
    assert _state(at_now, old) == ("withdrawn", f"Withdrawn candidate #{old}", 0, None)
    assert not (tmp_path / "media" / str(files[old])).exists()
    assert _thread_texts(at_now, old)[-1].startswith("🗑️ Erased after 180 days of retention")
    assert _state(at_now, recent) == ("completed", "John Recent", 1, None)
    erasures = at_now.run_sync(
        lambda s, _n: [
            (e.actor, e.interview_id)
            for e in s.exec(select(AuditEvent).where(AuditEvent.action == "candidate.erased"))
        ]
    )
    assert erasures == [("hirebot", old), ("hirebot", hired_old)]  # nobody asked: hirebot did
    assert (tmp_path / "media" / str(files[recent])).exists()
    assert _state(at_now, live)[:3] == ("completed", "Lee Live", 1)
    assert not any("retention" in t for t in _thread_texts(at_now, recent))

    # A second pass (the next tick, another process) finds nothing and writes nothing.
    before = at_now.run_sync(lambda s, _n: len(s.exec(select(OutboxMessage)).all()))
    assert _purge(at_now) == []
    assert at_now.run_sync(lambda s, _n: len(s.exec(select(OutboxMessage)).all())) == before

    # Two days on, the 179-day one is past 180 too.
    at_now.now = lambda: NOW + timedelta(days=2)
    assert [e.interview_id for e in _purge(at_now)] == [recent]


def test_the_ceiling_caps_a_3650_day_opening(at_now: UnitOfWork) -> None:
    _opening(at_now, "archive", retention_days=3650)
    past_ceiling = _candidate(at_now, "Ann Ancient", "archive", decided_days_ago=731)
    under_ceiling = _candidate(at_now, "Bob Before", "archive", decided_days_ago=729)
    erased = _purge(at_now)
    assert [(e.interview_id, e.kept_days) for e in erased] == [(past_ceiling, CEILING)]
    assert _state(at_now, past_ceiling)[0] == "withdrawn"
    assert _state(at_now, under_ceiling)[:2] == ("completed", "Bob Before")
    assert _thread_texts(at_now, past_ceiling)[-1].startswith("🗑️ Erased after 730 days")


def test_an_interview_that_ended_without_a_decision_counts_from_its_deadline(
    at_now: UnitOfWork,
) -> None:
    _opening(at_now, "backend", retention_days=30)
    lapsed = _candidate(at_now, "Eve Expired", "backend")
    answering = _candidate(at_now, "Al Answering", "backend")

    def age(session: Session, _now: datetime) -> None:
        for interview_id, status in ((lapsed, "expired"), (answering, "answering")):
            found = session.get_one(Interview, interview_id)
            found.status = status
            found.deadline_at = NOW - timedelta(days=31)

    at_now.run_sync(age)
    erased = _purge(at_now)
    assert [(e.interview_id, e.basis) for e in erased] == [(lapsed, "ended")]
    assert _state(at_now, answering)[:2] == ("answering", "Al Answering")


def test_a_person_with_another_open_interview_is_kept_until_it_expires_too(
    at_now: UnitOfWork,
) -> None:
    _opening(at_now, "backend")
    _opening(at_now, "frontend")
    first = _candidate(
        at_now, "Kim Twice", "backend", email="kim@example.com", decided_days_ago=400
    )
    second = _candidate(at_now, "Kim Twice", "frontend", email="KIM@example.com")
    assert _purge(at_now) == []
    assert _state(at_now, first)[:2] == ("completed", "Kim Twice")
    assert _state(at_now, second)[:2] == ("completed", "Kim Twice")

    def reject_second(session: Session, _now: datetime) -> None:
        found = session.get_one(Interview, second)
        found.stage = Stage.REJECTED
        found.decided_at = NOW - timedelta(days=181)

    at_now.run_sync(reject_second)
    assert [e.interview_id for e in _purge(at_now)] == [first]  # erases the person: both
    assert _state(at_now, second)[0] == "withdrawn"


def test_retention_days_is_read_from_the_opening_file_and_bounded() -> None:
    base = {
        "slug": "backend",
        "title": "Backend Engineer",
        "review_channel": "C0REVIEW01",
        "questions": [{"text": "Why?"}],
    }
    assert OpeningSpec.model_validate(base).retention_days == 180
    assert OpeningSpec.model_validate({**base, "retention_days": 3650}).retention_days == 3650
    for wrong in (0, 3651):
        with pytest.raises(ValueError, match="retention_days"):
            OpeningSpec.model_validate({**base, "retention_days": wrong})


def test_hirebot_purge_dry_run_lists_without_names_then_purge_erases(
    uow: UnitOfWork,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The command reads the real clock: so do these rows (``uow`` is not pinned to NOW).
    monkeypatch.setenv("HIREBOT_DATA_DIR", str(tmp_path))  # its media folder is uow's
    monkeypatch.setenv("HIREBOT_DATABASE_URL", database_url)
    _opening(uow, "backend")
    old = _candidate(uow, "Jane Old", "backend", decided_days_ago=181)
    recent = _candidate(uow, "John Recent", "backend", decided_days_ago=179)
    decided = (datetime.now(UTC) - timedelta(days=181)).date().isoformat()
    kept = Path(_media_paths(uow)[recent])

    assert main(["purge", "--dry-run"]) == 0
    listed = capsys.readouterr().out
    assert listed.splitlines() == [
        "1 interview(s) past their retention would be erased:",
        f"  #{old}  backend  decided {decided}  kept 181 days (retention 180)",
    ]
    assert _state(uow, old)[:3] == ("completed", "Jane Old", 1)  # a dry run changes nothing

    assert main(["purge"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "erased 1 of 1"
    assert _state(uow, old) == ("withdrawn", f"Withdrawn candidate #{old}", 0, None)
    assert _state(uow, recent)[:3] == ("completed", "John Recent", 1)
    assert [p.name for p in (tmp_path / "media").rglob("*.ogg")] == [kept.name]
    assert main(["purge", "--dry-run"]) == 0
    assert capsys.readouterr().out == "nothing is past its retention\n"


def test_two_processes_purging_at_once_erase_each_candidate_once(at_now: UnitOfWork) -> None:
    _opening(at_now, "backend")
    old = _candidate(at_now, "Jane Old", "backend", decided_days_ago=181)
    start = threading.Barrier(2)
    got: list[retention.Expired | None] = [None, None]

    def purge(i: int) -> None:
        start.wait(10)  # both looked and both try the same interview, each on its connection
        got[i] = at_now.run_sync(retention.eraser(old, CEILING))

    racers = [threading.Thread(target=purge, args=(i,)) for i in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(60)
    assert sorted(e is not None for e in got) == [False, True]
    notes = [t for t in _thread_texts(at_now, old) if "retention" in t]
    assert len(notes) == 1  # one note in the thread, one erasure
