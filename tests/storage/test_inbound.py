"""Processed inbound keys: a re-delivery is refused while its key is kept; old keys are pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.limits import InboundLimit
from bot.unit_of_work import UnitOfWork
from storage import inbound
from storage.models import ProcessedEvent

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
KEEP = timedelta(days=InboundLimit.KEEP_DAYS)


def test_keys_older_than_the_keep_are_forgotten_and_newer_ones_still_refuse(
    uow: UnitOfWork,
) -> None:
    old, recent = NOW - KEEP - timedelta(minutes=1), NOW - KEEP + timedelta(minutes=1)
    uow.run_sync(lambda s, _now: inbound.first_time(s, "slack", "old-event", old))
    uow.run_sync(lambda s, _now: inbound.first_time(s, "slack", "recent-event", recent))
    uow.run_sync(lambda s, _now: inbound.first_time(s, "telegram", "7", NOW))

    assert uow.run_sync(lambda s, _now: inbound.prune(s, NOW - KEEP)) == 1
    kept = uow.run_sync(lambda s, _now: s.exec(select(ProcessedEvent.key)).all())
    assert sorted(kept) == ["7", "recent-event"]
    # What is kept still turns a re-delivery away; nothing else changed.
    assert not uow.run_sync(lambda s, _now: inbound.first_time(s, "slack", "recent-event", NOW))
    assert uow.run_sync(lambda s, _now: inbound.prune(s, NOW - KEEP)) == 0


def test_a_key_is_first_once_and_forgetting_it_makes_it_first_again(uow: UnitOfWork) -> None:
    assert uow.run_sync(lambda s, _now: inbound.first_time(s, "telegram", "41", NOW))
    assert not uow.run_sync(lambda s, _now: inbound.first_time(s, "telegram", "41", NOW))
    # Same key, another source: a Slack event id may look like an update id.
    assert uow.run_sync(lambda s, _now: inbound.first_time(s, "slack", "41", NOW))

    def first_then_forget(session: Session, _now: datetime) -> bool:
        first = inbound.first_time(session, "telegram", "42", NOW)
        inbound.forget(session, "telegram", "42")  # a check before a download: not done yet
        return first

    assert uow.run_sync(first_then_forget)
    assert uow.run_sync(lambda s, _now: inbound.first_time(s, "telegram", "42", NOW))
    kept = uow.run_sync(lambda s, _now: sorted(s.exec(select(ProcessedEvent.key)).all()))
    assert kept == ["41", "41", "42"]
