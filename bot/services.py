"""What every adapter needs, built once by the runtime and handed to each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlmodel import Session

from storage import inbound
from storage.db import Database
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
        self, source: str, key: str, work: Callable[[Session, datetime], T]
    ) -> tuple[bool, T | None]:
        """Run ``work`` once per inbound ``(source, key)``; (False, None) on a re-delivery."""
        now = self.now()

        def unit(session: Session) -> tuple[bool, T | None]:
            if not inbound.first_time(session, source, key, now):
                return False, None
            return True, work(session, now)

        try:
            result = await self.db.run(unit)
        finally:
            self.committed()
        return result

    async def run(self, work: Callable[[Session, datetime], T]) -> T:
        """One transaction that is not tied to an inbound key."""
        now = self.now()
        try:
            return await self.db.run(lambda session: work(session, now))
        finally:
            self.committed()
