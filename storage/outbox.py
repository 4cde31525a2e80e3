"""Outbox rows: enqueue inside a flow's transaction; claim, mark sent or retry after commit.

Claiming is a conditional UPDATE on ``locked_until``, so several bot processes on one
PostgreSQL never deliver the same row at once, and a row claimed by a process that died is
claimed again once its lease runs out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, true, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.db import request_wake
from storage.models import OutboxMessage, OutboxStatus

_ENQUEUED = "hirebot.outbox_enqueued"


def enqueue(
    session: Session, *, ordering_key: str, kind: str, payload: dict[str, Any], now: datetime
) -> OutboxMessage:
    row = OutboxMessage(
        ordering_key=ordering_key,
        kind=kind,
        payload=payload,
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    # Not a wake-up of the delivery worker yet: the unit of work first offers the row to
    # this process's sender in this very transaction (take_enqueued), and wakes the worker
    # only for what that left.
    session.info.setdefault(_ENQUEUED, []).append(row)
    return row


def take_enqueued(session: Session) -> list[OutboxMessage]:
    """The rows this transaction enqueued (each once: the list is emptied)."""
    rows: list[OutboxMessage] = session.info.pop(_ENQUEUED, [])
    return rows


def drop_pending(session: Session, *, ordering_key: str, kind: str) -> int:
    """Delete undelivered rows of ``kind`` in ``ordering_key`` that no worker holds now."""
    result = session.execute(
        delete(OutboxMessage)
        .where(col(OutboxMessage.ordering_key) == ordering_key)
        .where(col(OutboxMessage.kind) == kind)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(col(OutboxMessage.locked_until).is_(None))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _unleased(now: datetime) -> Any:
    """No process holds the row: never claimed, or its lease ran out."""
    return or_(col(OutboxMessage.locked_until).is_(None), col(OutboxMessage.locked_until) < now)


def _lane(keys: str | None, other_keys: str | None) -> Any:
    """The condition on ordering keys of ``claim_due``'s lane (true when neither is given)."""
    conditions = []
    if keys is not None:
        conditions.append(col(OutboxMessage.ordering_key).startswith(keys, autoescape=True))
    if other_keys is not None:
        conditions.append(~col(OutboxMessage.ordering_key).startswith(other_keys, autoescape=True))
    return and_(true(), *conditions)


def claim_due(
    session: Session,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    exclude: Collection[int] = (),
    keys: str | None = None,
    other_keys: str | None = None,
) -> list[int]:
    """Claim up to ``limit`` due rows, each the oldest pending row of its ordering key.

    ``exclude``: rows this process is sending right now, never claimed twice by it even
    if their lease ran out (a slow upload). ``keys``/``other_keys``: only rows whose
    ordering key starts / does not start with that prefix (a lane of the sender's).
    """
    earlier = aliased(OutboxMessage)
    blocked_by_earlier = exists().where(
        and_(
            col(earlier.ordering_key) == col(OutboxMessage.ordering_key),
            col(earlier.status) == OutboxStatus.PENDING,
            col(earlier.id) < col(OutboxMessage.id),
        )
    )
    candidates = session.exec(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .where(OutboxMessage.next_attempt_at <= now)
        .where(_unleased(now))
        .where(~blocked_by_earlier)
        .where(col(OutboxMessage.id).not_in(list(exclude)))
        .where(_lane(keys, other_keys))
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    ).all()
    if not candidates:
        return []
    # One statement for the lot (a statement per row was most of a claim's time: 20 rows,
    # 7 ms). The conditions again, so a row another process claimed or sent meanwhile is
    # left to it; RETURNING says which rows are ours.
    claimed = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(list(candidates)))
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(_unleased(now))
        .values(locked_until=now + lease)
        .returning(col(OutboxMessage.id))
    ).scalars()
    return sorted(claimed)


def claim_next(
    session: Session,
    ordering_key: str,
    *,
    now: datetime,
    lease: timedelta,
    exclude: Collection[int] = (),
) -> OutboxMessage | None:
    """Claim the oldest pending row of ``ordering_key`` if it is due and nobody holds it (the
    message after one just sent, in the same transaction as that one's mark; or one just
    enqueued). ``exclude``: rows the caller is sending now, whatever their lease says."""
    row = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.ordering_key) == ordering_key)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .order_by(col(OutboxMessage.id))
        .limit(1)
    ).first()
    if row is None or row.next_attempt_at > now or row.id in exclude:
        return None
    if row.locked_until is not None and row.locked_until >= now:
        return None
    taken = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .where(_unleased(now))
        .values(locked_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return row if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def rows(session: Session, row_ids: Collection[int]) -> list[OutboxMessage]:
    """The rows of ``row_ids`` that still exist, in id order (one query)."""
    if not row_ids:
        return []
    return list(
        session.exec(
            select(OutboxMessage)
            .where(col(OutboxMessage.id).in_(list(row_ids)))
            .order_by(col(OutboxMessage.id))
        ).all()
    )


def extend_lease(session: Session, row_ids: Collection[int], until: datetime) -> None:
    """Keep rows still being sent out of other processes' reach."""
    if not row_ids:
        return
    # The rows locked in id order first, as a mark and the claim of the next row lock them:
    # an UPDATE of the lot locks them in whatever order it finds them, and on PostgreSQL
    # deadlocked with those (six failed renewals in a faults run).
    ids = session.exec(
        select(OutboxMessage.id)
        .where(col(OutboxMessage.id).in_(list(row_ids)))
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .order_by(col(OutboxMessage.id))
        .with_for_update()
    ).all()
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(list(ids)))
            .values(locked_until=until)
        )


def mark_sent(session: Session, row_id: int, now: datetime) -> None:
    _attempted(
        session,
        row_id,
        status=OutboxStatus.SENT,
        sent_at=now,
        last_error=None,
        waiting_for_channel=None,
    )


def forget_fields(session: Session, row_id: int, fields: Collection[str]) -> None:
    """Blank ``fields`` of a row's payload once it is finished with (sent or given up), so
    what only the recipient should hold (an email's invitation link) is not kept."""
    row = session.get(OutboxMessage, row_id)
    if row is not None:
        row.payload = {**row.payload, **{f: "" for f in fields if f in row.payload}}


def mark_failed(session: Session, row_id: int, error: str) -> None:
    _attempted(session, row_id, status=OutboxStatus.FAILED, last_error=error[:500])


def mark_retry(session: Session, row_id: int, *, at: datetime, error: str) -> None:
    """Schedule another attempt after ``at``."""
    _attempted(session, row_id, next_attempt_at=at, last_error=error[:500])


def wait_for_channel(
    session: Session, row_id: int, *, channel: str, at: datetime, error: str
) -> None:
    """Retry after ``at``, or as soon as ``release_channel(channel)`` says it may post there.

    The row stays pending, so the rows behind it in its conversation keep waiting, in order.
    """
    _attempted(
        session, row_id, next_attempt_at=at, last_error=error[:500], waiting_for_channel=channel
    )


def release_channel(session: Session, channel: str, now: datetime) -> int:
    """Make every row waiting for ``channel`` due now; how many there were."""
    result = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.waiting_for_channel) == channel)
        .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
        .values(next_attempt_at=now, waiting_for_channel=None)
    )
    request_wake(session)
    return int(result.rowcount)  # type: ignore[attr-defined]


def others_tried(session: Session, row_id: int, times: int) -> bool:
    """Whether another pending row has already been tried ``times`` times (the same outage)."""
    found = session.exec(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING)
        .where(OutboxMessage.attempts >= times)
        .where(col(OutboxMessage.waiting_for_channel).is_(None))  # a problem of its own
        .where(col(OutboxMessage.id) != row_id)
        .limit(1)
    ).first()
    return found is not None


def failed_before(session: Session, row_id: int, ordering_key: str) -> bool:
    """Whether an earlier row of ``ordering_key`` failed for good (and was reported)."""
    earlier = session.exec(
        select(OutboxMessage.id)
        .where(OutboxMessage.ordering_key == ordering_key)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .where(col(OutboxMessage.id) < row_id)
        .limit(1)
    ).first()
    return earlier is not None


def _attempted(session: Session, row_id: int, **values: Any) -> None:
    # A statement, not a loaded row: a row erased meanwhile (a candidate's /delete_my_data)
    # simply matches nothing.
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row_id)
        .values(locked_until=None, attempts=OutboxMessage.attempts + 1, **values)
    )


# A delivered row is history nobody needs, and it holds what was said (names, answers):
# kept this long for diagnosis, then deleted by the periodic tick.
KEEP_DELIVERED = timedelta(hours=24)


def prune_delivered(session: Session, now: datetime) -> int:
    """Delete rows delivered (or refused for good) more than ``KEEP_DELIVERED`` ago."""
    older_than = now - KEEP_DELIVERED
    result = session.execute(
        delete(OutboxMessage)
        .where(col(OutboxMessage.status).in_([OutboxStatus.SENT, OutboxStatus.FAILED]))
        .where(func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def carrying(
    session: Session, *, keys: Collection[str], about: Collection[int], words: Collection[str]
) -> list[OutboxMessage]:
    """Rows, in any state, of ``keys``, marked ``about`` one of these interviews, or holding
    one of ``words`` (as a whole word) anywhere in their payload, under any key.

    Read in Python, not with a JSON query: the outbox is short (delivered rows are pruned)
    and the same code then searches SQLite and PostgreSQL alike.
    """
    found = [w for w in words if len(w) >= _SHORTEST_WORD]
    pattern = (
        re.compile("|".join(rf"(?<!\w){re.escape(w)}(?!\w)" for w in found)) if found else None
    )
    about_set = set(about)
    rows: list[OutboxMessage] = []
    for row in session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all():
        if (
            row.ordering_key in keys
            or about_set.intersection(row.payload.get("about") or [])
            or (pattern is not None and any(pattern.search(s) for s in _strings(row.payload)))
        ):
            rows.append(row)
    return rows


# Shorter words (initials) would match unrelated messages.
_SHORTEST_WORD = 3


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def next_due(session: Session, after: datetime | None = None) -> datetime | None:
    """When the next pending row is due (``after``: the first retry later than that)."""
    query = select(OutboxMessage.next_attempt_at).where(
        OutboxMessage.status == OutboxStatus.PENDING
    )
    if after is not None:
        query = query.where(OutboxMessage.next_attempt_at > after)
    return session.exec(query.order_by(col(OutboxMessage.next_attempt_at)).limit(1)).first()


def pending_count(session: Session) -> int:
    return len(
        session.exec(
            select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING)
        ).all()
    )
