"""Processed inbound keys: Telegram update ids, Slack event ids and action ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col

from storage.models import ProcessedEvent


def first_time(session: Session, source: str, key: str, now: datetime) -> bool:
    """Record ``(source, key)``; False if it was handled before.

    The row commits with the flow's change, so a re-delivery after a crash before commit is
    handled again, and one after commit is not. A concurrent duplicate loses at commit on the
    primary key and is rolled back as a whole.
    """
    if session.get(ProcessedEvent, (source, key)) is not None:
        return False
    session.add(ProcessedEvent(source=source, key=key, created_at=now))
    session.flush()
    return True


def forget(session: Session, source: str, key: str) -> None:
    """Undo ``first_time`` within the same transaction."""
    row = session.get(ProcessedEvent, (source, key))
    if row is not None:
        session.delete(row)
        session.flush()


def prune(session: Session, older_than: datetime) -> int:
    """Forget keys recorded before ``older_than``: long past any re-delivery, and otherwise the
    table would grow by every button press and event for as long as hirebot runs."""
    result = session.execute(
        delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
