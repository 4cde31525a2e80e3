"""The durable inbox: Telegram updates stored before Telegram may forget them.

Telegram forgets an update once a later ``getUpdates`` names a higher offset (or a webhook
push is answered 2xx). Storing each update here first, and handling it from here, means a
process killed at any moment loses nothing: the next process finds the row still pending.

Rows are claimed like outbox rows (a conditional UPDATE on ``locked_until``), one chat at a
time and in ``update_id`` order within a chat, so several processes on one PostgreSQL never
handle one update at once and a candidate's messages are handled in the order they were sent.
Each claim counts an attempt before the work starts, so an update that kills the process is
not retried forever.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.interviews import hold_the_writer
from storage.models import InboxStatus, InboxUpdate

#: How many waiting rows one claim looks at (the earliest of each chat is taken).
SCAN = 500


@dataclass(frozen=True)
class Received:
    """An update as it arrived: ``chat_key`` None means hirebot does not act on it."""

    update_id: int
    chat_key: str | None
    payload: dict[str, Any]


@dataclass(frozen=True)
class Claimed:
    update_id: int
    chat_key: str
    payload: dict[str, Any]
    attempts: int  # including this one


def store(session: Session, updates: Iterable[Received], now: datetime) -> int:
    """Insert the updates not stored yet; returns how many were new.

    An update hirebot does not act on is recorded as ignored, without its content: its id
    is all a redelivery needs to be recognised.
    """
    batch = {u.update_id: u for u in updates}
    if not batch:
        return 0
    # On SQLite, open the transaction with a write first: pysqlite begins one only before a
    # write, so the savepoint below would begin it itself, and its RELEASE would commit the
    # store on its own, apart from the claim that follows in the same unit of work (two
    # commits, each an fsync, where one was meant).
    hold_the_writer(session)
    known = set(
        session.exec(
            select(InboxUpdate.update_id).where(col(InboxUpdate.update_id).in_(list(batch)))
        ).all()
    )
    new = [u for update_id, u in sorted(batch.items()) if update_id not in known]
    if not new:
        return 0
    try:
        # The whole batch in one savepoint: the usual case, one flush.
        with session.begin_nested():
            session.add_all([_row(u, now) for u in new])
        return len(new)
    except IntegrityError:
        pass
    stored = 0
    for u in new:
        try:
            # Each row in a savepoint: another bot process may store the same update between
            # the SELECT above and this INSERT (Telegram redelivered it to the other one).
            # The primary key lets one of them win; the other skips it instead of failing
            # the whole batch and making Telegram push it again.
            with session.begin_nested():
                session.add(_row(u, now))
        except IntegrityError:
            continue
        stored += 1
    return stored


def _row(u: Received, now: datetime) -> InboxUpdate:
    acted_on = u.chat_key is not None
    return InboxUpdate(
        update_id=u.update_id,
        chat_key=u.chat_key,
        payload=u.payload if acted_on else {},
        status=InboxStatus.PENDING if acted_on else InboxStatus.IGNORED,
        next_attempt_at=now,
        received_at=now,
        handled_at=None if acted_on else now,
    )


def claim(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    busy: Collection[str] = (),
) -> list[Claimed]:
    """Claim up to ``limit`` due rows, each the earliest waiting row of its chat.

    A chat whose earliest row is leased (being handled, here or elsewhere), waiting for a
    retry, or in ``busy`` (chats this process is handling) is skipped as a whole: later
    updates of a chat never overtake an earlier one.
    """
    waiting = session.exec(
        select(InboxUpdate)
        .where(InboxUpdate.status == InboxStatus.PENDING)
        .order_by(col(InboxUpdate.update_id))
        .limit(SCAN)
    ).all()
    seen: set[str] = set(busy)
    due: dict[int, tuple[str, dict[str, Any]]] = {}
    for row in waiting:
        if len(due) >= limit:
            break
        key = row.chat_key or ""
        if key in seen:
            continue
        seen.add(key)
        leased = row.locked_until is not None and row.locked_until > now
        if leased or row.next_attempt_at > now:
            continue
        due[row.update_id] = (key, dict(row.payload))
    if not due:
        return []
    # One statement for them all; the conditions again, so an update another process took
    # meanwhile stays its own. RETURNING says which are ours, with their attempt count.
    taken = session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id).in_(list(due)))
        .where(col(InboxUpdate.status) == InboxStatus.PENDING)
        .where(or_(col(InboxUpdate.locked_until).is_(None), col(InboxUpdate.locked_until) <= now))
        .values(locked_until=now + lease, attempts=InboxUpdate.attempts + 1)
        .returning(col(InboxUpdate.update_id), col(InboxUpdate.attempts))
    ).all()
    attempts = dict(taken)
    return [
        Claimed(update_id, key, payload, attempts[update_id])
        for update_id, (key, payload) in due.items()
        if update_id in attempts
    ]


def extend_lease(session: Session, update_ids: Collection[int], until: datetime) -> None:
    """Keep updates still being handled out of other processes' reach."""
    if update_ids:
        session.execute(
            update(InboxUpdate)
            .where(col(InboxUpdate.update_id).in_(list(update_ids)))
            .where(col(InboxUpdate.status) == InboxStatus.PENDING)
            .values(locked_until=until)
        )


def mark_done(session: Session, update_id: int, now: datetime) -> None:
    _settle(session, update_id, status=InboxStatus.DONE, handled_at=now)


def mark_failed(session: Session, update_id: int, error_type: str, now: datetime) -> None:
    """Given up on: the error's type is kept (never its text, which may quote the update)."""
    _settle(session, update_id, status=InboxStatus.FAILED, handled_at=now, last_error=error_type)


def mark_retry(session: Session, update_id: int, *, at: datetime, error_type: str) -> None:
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(locked_until=None, next_attempt_at=at, last_error=error_type[:64])
    )


def _settle(session: Session, update_id: int, **values: Any) -> None:
    # The content goes as soon as the update is settled: it holds the candidate's words.
    session.execute(
        update(InboxUpdate)
        .where(col(InboxUpdate.update_id) == update_id)
        .values(locked_until=None, payload={}, **values)
    )


def forget_chats(session: Session, chat_keys: Collection[str]) -> None:
    """Erasure: nothing of these chats' updates stays, except what is still to be handled.

    Settled rows lose their content and their chat key (a Telegram user id); the row being
    handled now (the erasure's own update) loses its content. Rows still waiting were sent
    after the erasure was asked for, and are handled as usual.
    """
    if not chat_keys:
        return
    mine = col(InboxUpdate.chat_key).in_(list(chat_keys))
    session.execute(
        update(InboxUpdate)
        .where(mine)
        .where(col(InboxUpdate.status) != InboxStatus.PENDING)
        .values(payload={}, chat_key=None)
    )
    session.execute(
        update(InboxUpdate)
        .where(mine)
        .where(col(InboxUpdate.status) == InboxStatus.PENDING)
        .where(col(InboxUpdate.locked_until).is_not(None))
        .values(payload={})
    )


def pending_count(session: Session) -> int:
    return int(
        session.exec(select(func.count()).where(InboxUpdate.status == InboxStatus.PENDING)).one()
    )


def prune(session: Session, older_than: datetime) -> int:
    """Forget settled updates received before ``older_than`` (ids and outcomes only)."""
    result = session.execute(
        delete(InboxUpdate)
        .where(col(InboxUpdate.status) != InboxStatus.PENDING)
        .where(col(InboxUpdate.received_at) < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
