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


async def test_a_cancelled_writer_leaves_the_others_items_to_the_next_one(uow: UnitOfWork) -> None:
    loop = asyncio.get_running_loop()
    gates = {"a": asyncio.Event(), "b": asyncio.Event()}
    writing = {"a": asyncio.Event(), "b": asyncio.Event()}
    written: list[list[str]] = []

    def write(session: Session, now: datetime, keys: list[str]) -> list[None]:
        written.append(list(keys))
        for held in ("a", "b"):
            if keys[0] == held:  # hold this transaction until the test lets it go
                loop.call_soon_threadsafe(writing[held].set)
                asyncio.run_coroutine_threadsafe(gates[held].wait(), loop).result()
        for key in keys:
            inbound.first_time(session, "test", key, now)
        return [None for _ in keys]

    commits = GroupCommit[str, None](uow, write)
    a = asyncio.create_task(commits.record("a"))
    await writing["a"].wait()
    b = asyncio.create_task(commits.record("b"))
    c = asyncio.create_task(commits.record("c"))
    await asyncio.sleep(0.05)  # both wait their turn behind "a"
    gates["a"].set()
    await a
    await writing["b"].wait()  # "b" writes the batch [b, c]
    b.cancel()
    gates["b"].set()
    await asyncio.gather(b, return_exceptions=True)
    await c  # written again by a transaction of its own, not lost with the cancelled writer
    assert written[:2] == [["a"], ["b", "c"]] and written[-1] == ["c"]
    stored = uow.run_sync(lambda s, _now: set(s.exec(select(ProcessedEvent.key)).all()))
    assert "c" in stored
