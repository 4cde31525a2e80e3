"""Processed inbound keys: Telegram update ids, Slack event ids and action ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from storage.models import ProcessedEvent


def first_time(session: Session, source: str, key: str, now: datetime) -> bool:
    """Record ``(source, key)``; False if it was handled before.

    The row commits with the flow's change, so a re-delivery after a crash before commit is
    handled again, and one after commit is not. One statement (every handler runs it): the
    insert does nothing where the key is there. On PostgreSQL a concurrent duplicate waits
    for the first one's transaction and then finds the key (or, if that one rolled back,
    takes it); SQLite has one writer at a time.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(ProcessedEvent)
        .values(source=source, key=key, created_at=now)
        .on_conflict_do_nothing()
        .returning(col(ProcessedEvent.key))
    ).first()
    return inserted is not None


def forget(session: Session, source: str, key: str) -> None:
    """Undo ``first_time`` within the same transaction."""
    session.execute(
        delete(ProcessedEvent)
        .where(col(ProcessedEvent.source) == source)
        .where(col(ProcessedEvent.key) == key)
    )


def prune(session: Session, older_than: datetime) -> int:
    """Forget keys recorded before ``older_than``: long past any re-delivery, and otherwise the
    table would grow by every button press and event for as long as hirebot runs."""
    result = session.execute(
        delete(ProcessedEvent).where(col(ProcessedEvent.created_at) < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
