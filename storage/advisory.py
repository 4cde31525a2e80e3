"""One holder at a time across every process on one PostgreSQL: transaction-level advisory locks.

Each bot process runs APScheduler's minute tick. On PostgreSQL several bot processes share one
database, and a tick run twice at once would race on the same due reminders and retention
erasures (each is idempotent, but two processes would do the same work and could both send
before either commits). The tick therefore runs only while it holds an advisory lock; a second
process finds it taken and skips that minute. The lock belongs to an open transaction, so it
goes with the connection when a process dies: no stale lock to clear. SQLite has one
process per database, so there it is always granted.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import Engine


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (pg_advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@asynccontextmanager
async def exclusive(engine: Engine, name: str) -> AsyncIterator[bool]:
    """True while this process holds ``name``'s lock; False when another process holds it."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    connection = await asyncio.to_thread(engine.connect)
    try:
        statement = text("SELECT pg_try_advisory_xact_lock(:key)")
        held = await asyncio.to_thread(
            lambda: bool(connection.execute(statement, {"key": lock_key(name)}).scalar())
        )
        yield held
    finally:
        # Closing rolls the transaction back, which releases the lock.
        await asyncio.to_thread(connection.close)
