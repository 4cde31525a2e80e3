"""Extra time (``/hire invite … time=1.5``) is bounded by the invite flow, whoever calls it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.errors import InvalidRequest
from bot.flows import interview, openings
from bot.limits import ReviewLimit
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import UnitOfWork, opened
from storage import migrate
from storage.models import Candidate, Interview

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def uow(database_url: str, tmp_path: Path) -> Iterator[UnitOfWork]:
    migrate.upgrade(database_url)
    with opened(database_url, tmp_path / "media") as unit:
        unit.run_sync(lambda s, _now: openings.save(s, openings.parse(OPENING_FILE), T0))
        yield unit


def _invite(uow: UnitOfWork, factor: float) -> interview.Invitation:
    return uow.run_sync(
        lambda s, _now: interview.invite(
            s,
            opening_slug="backend-engineer",
            candidate_name="Jane Doe",
            invited_by="U0RITA",
            now=T0,
            time_multiplier=factor,
        )
    )


def test_extra_time_outside_its_bounds_is_refused_and_nobody_is_invited(uow: UnitOfWork) -> None:
    for factor in (0.5, 0.99, ReviewLimit.EXTRA_TIME_MAX_FACTOR + 0.1, 9.0):
        with pytest.raises(InvalidRequest, match=r"^Extra time goes from 1 to 3, e\.g\. `time="):
            _invite(uow, factor)
    rows = uow.run_sync(
        lambda s, _now: (
            list(s.exec(select(Candidate)).all()),
            list(s.exec(select(Interview)).all()),
        )
    )
    assert rows == ([], [])


def test_extra_time_within_its_bounds_scales_the_interview(uow: UnitOfWork) -> None:
    factors = [1.0, 1.5, float(ReviewLimit.EXTRA_TIME_MAX_FACTOR)]
    ids = [_invite(uow, factor).interview_id for factor in factors]
    rows = uow.run_sync(lambda s, _now: [s.get_one(Interview, i).time_multiplier for i in ids])
    assert rows == factors
