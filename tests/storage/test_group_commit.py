"""Group commits: marks made while one is being written go together in the next transaction,
each caller gets its own result once its item has committed, and a failed write fails all of
its items (none is reported written)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlmodel import Session, select

from bot.group_commit import GroupCommit
from bot.unit_of_work import UnitOfWork
from storage import inbound
from storage.models import ProcessedEvent


async def test_items_recorded_at_once_share_transactions_and_each_gets_its_result(
    uow: UnitOfWork,
) -> None:
    batches: list[list[str]] = []

    def write(session: Session, now: datetime, keys: list[str]) -> list[bool]:
        batches.append(list(keys))
        return [inbound.first_time(session, "test", key, now) for key in keys]

    commits = GroupCommit[str, bool](uow, write)
    keys = [str(n) for n in range(20)] + ["3"]  # "3" twice: the second finds it written
    results = await asyncio.gather(*(commits.record(key) for key in keys))

    assert results == [True] * 20 + [False]
    assert sorted(k for batch in batches for k in batch) == sorted(keys)  # each written once
    assert len(batches) < len(keys)  # together, not one transaction each
    stored = uow.run_sync(lambda s, _now: s.exec(select(ProcessedEvent.key)).all())
    assert sorted(stored, key=int) == [str(n) for n in range(20)]


async def test_a_failed_write_fails_every_item_it_held_and_commits_none(uow: UnitOfWork) -> None:
    def write(session: Session, now: datetime, keys: list[str]) -> list[None]:
        for key in keys:
            inbound.first_time(session, "test", key, now)
        if "bad" in keys:
            raise RuntimeError("the database went away")
        return [None for _ in keys]

    commits = GroupCommit[str, None](uow, write)
    outcomes = await asyncio.gather(
        *(commits.record(key) for key in ["a", "bad", "b"]), return_exceptions=True
    )
    assert any(isinstance(o, RuntimeError) for o in outcomes)
    failed = [key for key, o in zip(["a", "bad", "b"], outcomes, strict=True) if o is not None]
    assert "bad" in failed
    stored = set(uow.run_sync(lambda s, _now: s.exec(select(ProcessedEvent.key)).all()))
    # What was reported written is in the database; what failed is not.
    assert stored == {"a", "bad", "b"} - set(failed)
    await commits.record("c")  # the next write works
    with pytest.raises(RuntimeError):
        await commits.record("bad")
