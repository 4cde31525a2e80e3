"""Extra time (``/hire invite … time=1.5``) is bounded by the invite flow, whoever calls it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.errors import InvalidRequest
from bot.flows import interview, openings
from bot.limits import ReviewLimit
from bot.sandbox.world import OPENING_FILE
from storage import migrate
from storage.db import Database, make_engine
from storage.models import Candidate, Interview

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    migrate.upgrade(database_url)
    database = Database(make_engine(database_url))
    database.run_sync(lambda s: openings.save(s, openings.parse(OPENING_FILE), T0))
    yield database
    database.dispose()


def _invite(db: Database, factor: float) -> interview.Invitation:
    return db.run_sync(
        lambda s: interview.invite(
            s,
            opening_slug="backend-engineer",
            candidate_name="Jane Doe",
            invited_by="U0RITA",
            now=T0,
            time_multiplier=factor,
        )
    )


def test_extra_time_outside_its_bounds_is_refused_and_nobody_is_invited(db: Database) -> None:
    for factor in (0.5, 0.99, ReviewLimit.EXTRA_TIME_MAX_FACTOR + 0.1, 9.0):
        with pytest.raises(InvalidRequest, match=r"^Extra time goes from 1 to 3, e\.g\. `time="):
            _invite(db, factor)
    rows = db.run_sync(
        lambda s: (list(s.exec(select(Candidate)).all()), list(s.exec(select(Interview)).all()))
    )
    assert rows == ([], [])


def test_extra_time_within_its_bounds_scales_the_interview(db: Database) -> None:
    factors = [1.0, 1.5, float(ReviewLimit.EXTRA_TIME_MAX_FACTOR)]
    ids = [_invite(db, factor).interview_id for factor in factors]
    rows = db.run_sync(lambda s: [s.get_one(Interview, i).time_multiplier for i in ids])
    assert rows == factors
