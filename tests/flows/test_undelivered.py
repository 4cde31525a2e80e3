"""Who is told when messages cannot get through, and how often (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.flows import undelivered
from bot.flows.outgoing import Kind
from bot.limits import DeliveryLimit
from bot.unit_of_work import UnitOfWork
from storage import outbox
from storage.models import OutboxMessage

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
RECRUITERS = frozenset({"U0RITA"})


def _row(uow: UnitOfWork, key: str, attempts: int) -> int:
    def add(session: Session, _now: datetime) -> int:
        row = outbox.enqueue(session, ordering_key=key, kind=Kind.CARD_POST, payload={}, now=T0)
        row.attempts = attempts
        session.flush()
        assert row.id is not None
        return row.id

    return uow.run_sync(add)


def _dms(uow: UnitOfWork) -> list[str]:
    rows = uow.run_sync(
        lambda s, _now: s.exec(
            select(OutboxMessage).where(OutboxMessage.kind == Kind.NOTIFY_USER)
        ).all()
    )
    return [str(r.payload["text"]) for r in rows]


def _retry(uow: UnitOfWork, row_id: int, key: str, *, attempts: int, rate_limited: bool) -> bool:
    return uow.run_sync(
        lambda s, _now: undelivered.retry_later(
            s,
            row_id=row_id,
            ordering_key=key,
            attempts=attempts,
            retry_at=T0 + timedelta(minutes=5),
            error="Slack error 503",
            rate_limited=rate_limited,
            recruiters=RECRUITERS,
            now=T0,
        )
    )


def test_an_outage_is_reported_once_after_so_many_tries_not_once_per_conversation(
    uow: UnitOfWork,
) -> None:
    before = DeliveryLimit.REPORT_AFTER_ATTEMPTS - 1
    first, second = _row(uow, "review:1", before), _row(uow, "review:2", before)
    assert not _retry(uow, first, "review:1", attempts=before - 1, rate_limited=False)
    assert _retry(uow, first, "review:1", attempts=before, rate_limited=False)
    assert not _retry(uow, second, "review:2", attempts=before, rate_limited=False)
    assert not _retry(uow, first, "review:1", attempts=before + 1, rate_limited=False)
    dms = _dms(uow)
    assert len(dms) == 1 and "candidate #1" in dms[0] and "Slack error 503" in dms[0]


def test_a_rate_limit_is_pacing_not_a_failure_to_report(uow: UnitOfWork) -> None:
    before = DeliveryLimit.REPORT_AFTER_ATTEMPTS - 1
    row = _row(uow, "review:1", before)
    assert not _retry(uow, row, "review:1", attempts=before, rate_limited=True)
    assert _dms(uow) == []


def test_a_team_members_own_dm_failing_is_not_reported_by_dm(uow: UnitOfWork) -> None:
    row = _row(uow, "user:U0TOM", 0)
    told = uow.run_sync(
        lambda s, _now: undelivered.give_up(
            s,
            row_id=row,
            ordering_key="user:U0TOM",
            error="refused: Slack refused: user_not_found",
            recruiters=RECRUITERS,
            now=T0,
        )
    )
    assert not told and _dms(uow) == []
