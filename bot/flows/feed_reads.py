"""Reading interviewers' calendar feeds on a schedule: which are due, and what a read changes
(issue 10).

A read is three steps so that no transaction waits on the network: ``claim_due`` (or
``claim``) marks the feeds being read and hands back their addresses; the caller fetches
each outside any transaction; ``record`` stores what came back. A feed that turns unreadable
keeps its last good busy times (bot.flows.busy_feed.refreshed) and its owner is told once,
by DM, in words they can act on; they are told again only after it has worked in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, or_, select

from bot.flows import outgoing
from bot.flows.busy_feed import FeedCopy, FeedError, masked, refreshed
from bot.flows.interviewer_hours import feed_busy, hours_row, store_feed_busy
from bot.flows.moments import known_zone
from bot.limits import BusyFeedLimit, SchedulingLimit
from storage.models import InterviewerHours


@dataclass(frozen=True)
class FeedToRead:
    interviewer: str
    address: str  # the secret address: fetch it, never log it


def claim_due(session: Session, now: datetime, limit: int) -> list[FeedToRead]:
    """Up to ``limit`` feeds not tried for BusyFeedLimit.REFRESH_MINUTES, longest waiting
    first, marked as tried now (so a second bot process does not read them too)."""
    stale = now - timedelta(minutes=BusyFeedLimit.REFRESH_MINUTES)
    rows = session.exec(
        select(InterviewerHours)
        .where(col(InterviewerHours.feed_url).is_not(None))
        .where(
            or_(
                col(InterviewerHours.feed_tried_at).is_(None),
                col(InterviewerHours.feed_tried_at) <= stale,
            )
        )
        .order_by(
            col(InterviewerHours.feed_tried_at).is_not(None), col(InterviewerHours.feed_tried_at)
        )
        .limit(limit)
        # Two bot processes ticking at once each take different feeds (PostgreSQL; SQLite
        # has one writer at a time anyway).
        .with_for_update(skip_locked=True)
    ).all()
    return [_claimed(row, now) for row in rows]


def claim(session: Session, interviewer: str, now: datetime) -> FeedToRead | None:
    """The one interviewer's feed, to read now (right after they saved a new address)."""
    row = hours_row(session, interviewer)
    if row is None or not row.feed_url:
        return None
    return _claimed(row, now)


def _claimed(row: InterviewerHours, now: datetime) -> FeedToRead:
    assert row.feed_url is not None
    row.feed_tried_at = now
    return FeedToRead(row.interviewer, row.feed_url)


def record(
    session: Session, read: FeedToRead, fetched: bytes | FeedError, now: datetime
) -> FeedCopy | None:
    """Store one read: the busy times over the window a search can offer (now to
    SchedulingLimit.WINDOW_DAYS_MAX days ahead), or the problem, keeping the last good
    copy. None when the address changed (or was removed) while it was being fetched: what
    came back belongs to an address no longer in use."""
    row = hours_row(session, read.interviewer)
    if row is None or row.feed_url != read.address:
        return None
    # An all-day event is that whole day in the interviewer's zone; one the tz database
    # dropped (WeeklyHours would refuse it too) reads as UTC rather than losing the read.
    zone = known_zone(row.time_zone) or UTC
    previous = FeedCopy(
        busy=feed_busy(row),
        read_at=row.feed_read_at,
        problem=row.feed_error,
    )
    horizon = now + timedelta(days=SchedulingLimit.WINDOW_DAYS_MAX)
    copy = refreshed(previous, fetched, now, horizon, zone=zone, now=now)
    store_feed_busy(row, copy.busy)
    row.feed_read_at = copy.read_at
    row.feed_tried_at = now
    row.feed_error = copy.problem
    if copy.problem is None:
        row.feed_error_told_at = None
    elif copy.tell_interviewer:
        row.feed_error_told_at = now
        outgoing.to_team_member(session, row.interviewer, unreadable_text(row, copy), now)
    return copy


def unreadable_text(row: InterviewerHours, copy: FeedCopy) -> str:
    """The DM when a feed stops being readable: what went wrong, what hirebot does meanwhile,
    how to fix it. The address is shown only masked."""
    assert row.feed_url is not None and copy.problem is not None
    meanwhile = (
        "Until it works again I keep using the busy times I read from it last"
        if copy.read_at is not None
        else "Until it works, candidates may be offered times you are busy elsewhere"
    )
    return (
        f"⚠️ I couldn't read your calendar at {masked(row.feed_url)}: {copy.problem}. "
        f"{meanwhile}. Check the address (your calendar app's *secret address in iCal "
        "format*) and paste it again with `/hire availability`, or remove it there."
    )
