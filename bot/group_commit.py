"""Small writes that many tasks make at once, committed together (a group commit).

Under ``hirebot bench load`` every sent message and every handled update was one
transaction of one UPDATE, and on SQLite transactions take turns: those marks kept the
database busy while candidates' next steps waited behind them. A task that records an item
here waits until its item has committed, as before; items that arrive while one
transaction is being written go together in the next one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from sqlmodel import Session

from bot.unit_of_work import UnitOfWork

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """``write(session, now, items)`` writes a batch and returns one result per item."""

    def __init__(self, uow: UnitOfWork, write: Callable[[Session, datetime, list[T]], list[R]]):
        self._uow = uow
        self._write = write
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._turn = asyncio.Lock()  # first come, first served

    async def record(self, item: T) -> R:
        """Write ``item`` (with whatever else is waiting); returns its result once it has
        committed, or raises what the transaction that wrote it raised."""
        mine: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, mine))
        async with self._turn:
            if mine.done():
                return mine.result()  # written by the transaction of the one before us
            batch, self._waiting = self._waiting, []
            items = [waiting for waiting, _ in batch]
            try:
                results = await self._uow.run(lambda session, now: self._write(session, now, items))
            except asyncio.CancelledError:
                # Only the writer was cancelled (a shutdown): the others' items go to the next
                # writer (the marks are idempotent should this transaction commit anyway).
                self._waiting[:0] = [waiting for waiting in batch if waiting[1] is not mine]
                raise
            except Exception as err:
                for _, future in batch:
                    if future is not mine:
                        future.set_exception(err)
                raise
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
            return mine.result()
