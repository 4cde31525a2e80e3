"""What every adapter needs, built once by the runtime and handed to each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlmodel import Session

from storage import answer_media, inbound
from storage.db import Database, scrub_deleted, take_scrub
from storage.media import MediaStore

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    db: Database
    media: MediaStore
    recruiters: frozenset[str]
    now: Callable[[], datetime] = utc_now
    # Called after every commit that may have written outbox rows or pending transcripts.
    committed: Callable[[], None] = lambda: None

    async def handle_once(
        self,
        source: str,
        key: str,
        work: Callable[[Session, datetime], T],
        *,
        done: Callable[[T], bool] = lambda _result: True,
    ) -> tuple[bool, T | None]:
        """Run ``work`` once per inbound ``(source, key)``; (False, None) on a re-delivery.

        ``done(result)`` False means the update is not finished with (a check before a
        download): the key is not recorded, so the step that finishes it can record it.
        """
        now = self.now()

        def unit(session: Session) -> tuple[bool, T | None]:
            if not inbound.first_time(session, source, key, now):
                return False, None
            result = work(session, now)
            if not done(result):
                inbound.forget(session, source, key)
            return True, result

        return await self._commit(unit)

    async def run(self, work: Callable[[Session, datetime], T]) -> T:
        """One transaction that is not tied to an inbound key."""
        now = self.now()
        return await self._commit(lambda session: work(session, now))

    async def _commit(self, unit: Callable[[Session], T]) -> T:
        """Run ``unit`` in a transaction, then do what may only happen after its commit."""

        def with_discards(session: Session) -> tuple[T, list[str], bool]:
            result = unit(session)
            return result, answer_media.take_discarded(session), take_scrub(session)

        try:
            result, discarded, scrub = await self.db.run(with_discards)
            for relpath in discarded:
                await asyncio.to_thread(self.media.delete, relpath)
            if scrub:
                await asyncio.to_thread(scrub_deleted, self.db.engine)
        finally:
            self.committed()
        return result
