"""One minute tick in the whole deployment: a second bot process on the same PostgreSQL finds
the tick's lock taken and skips that minute; a dead holder's lock goes with its connection."""

from __future__ import annotations

import asyncio

from bot.config import Settings
from bot.runtime import Runtime
from bot.unit_of_work import UnitOfWork
from storage.advisory import exclusive, lock_key
from storage.db import Database, make_engine


async def test_a_second_holder_is_refused_until_the_first_lets_go(
    uow: UnitOfWork, database_url: str
) -> None:
    other_process = make_engine(database_url)  # its own connections, as another process has
    try:
        async with exclusive(uow.db.engine, "hirebot.tick") as first:
            assert first
            async with exclusive(other_process, "hirebot.tick") as second:
                # SQLite: one process per database file, so there is no one to exclude.
                assert second is (uow.db.engine.dialect.name == "sqlite")
            async with exclusive(other_process, "hirebot.calendar-feeds") as unrelated:
                assert unrelated, "each name is its own lock"
        async with exclusive(other_process, "hirebot.tick") as after:
            assert after, "released with the first holder's transaction"
    finally:
        other_process.dispose()


async def test_two_bot_processes_tick_one_at_a_time(database_url: str) -> None:
    """Both schedulers fire each minute; the ticks' bodies never overlap."""
    running = 0
    overlapped = False
    ran = 0

    async def body() -> None:
        nonlocal running, overlapped, ran
        running += 1
        overlapped = overlapped or running > 1
        await asyncio.sleep(0.3)
        ran += 1
        running -= 1

    bots = []
    for _ in range(2):
        bot = Runtime(Settings(database_url=database_url))
        bot.db = Database(make_engine(database_url))
        bot._tick = body  # type: ignore[method-assign]
        bots.append(bot)
    try:
        await asyncio.gather(*(bot.tick() for bot in bots))
    finally:
        for bot in bots:
            bot.db.dispose()
    if database_url.startswith("postgresql"):
        assert (ran, overlapped) == (1, False), "the second process skipped that minute"
    else:
        assert ran == 2  # one process per SQLite file: both are the same deployment's one


def test_lock_keys_are_stable_bigints() -> None:
    assert lock_key("hirebot.tick") == lock_key("hirebot.tick") != lock_key("hirebot.feeds")
    assert -(2**63) <= lock_key("hirebot.tick") < 2**63
