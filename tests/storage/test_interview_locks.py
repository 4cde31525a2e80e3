"""Two processes changing one interview take turns (PostgreSQL row locks)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.flows import interview, openings
from bot.sandbox.world import OPENING_FILE
from storage import interviews
from storage.db import Database


def test_a_second_change_to_an_interview_waits_for_the_first_and_sees_it(
    db: Database, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite allows one writer at a time; row locks are PostgreSQL's")
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    spec = openings.parse(OPENING_FILE)
    db.run_sync(lambda s: openings.save(s, spec, now))
    invitation = db.run_sync(
        lambda s: interview.invite(
            s, opening_slug=spec.slug, candidate_name="Jane Doe", invited_by="U1", now=now
        )
    )
    first_holds_lock = threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with Session(db.engine) as session:
            row = interviews.locked(session, invitation.interview_id)
            assert row is not None
            first_holds_lock.set()
            time.sleep(0.5)
            row.stage = "Live interview"
            seen["first_committing"] = time.monotonic()
            session.commit()

    def second() -> None:
        first_holds_lock.wait(5)
        with Session(db.engine) as session:
            row = interviews.locked(session, invitation.interview_id)
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
