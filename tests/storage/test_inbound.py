"""Processed inbound keys: a re-delivery is refused while its key is kept; old keys are pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

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
