"""Slack channels hirebot cannot post in, each reported to the recruiters once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.models import ChannelProblem


def report_once(session: Session, channel: str, problem: str, now: datetime) -> bool:
    """Record that ``channel`` has ``problem``; True only for the first report of it.

    Several rows (other interviews, other processes) hit the same channel at once: the
    primary key lets exactly one of them report it.
    """
    known = session.get(ChannelProblem, channel)
    if known is not None:
        if known.problem == problem:
            return False
        known.problem, known.reported_at = problem, now  # a new problem: tell them again
        return True
    try:
        with session.begin_nested():
            session.add(ChannelProblem(channel=channel, problem=problem, reported_at=now))
    except IntegrityError:
        return False  # another process reported it a moment ago
    return True


def resolve(session: Session, channel: str) -> bool:
    """hirebot can post in ``channel`` again; True if a problem was recorded for it."""
    # One conditional DELETE, not get + delete: two deliveries resolving the same channel at
    # once would make the ORM's second delete match no row (a StaleDataError warning).
    result = session.execute(delete(ChannelProblem).where(col(ChannelProblem.channel) == channel))
    return int(result.rowcount) > 0  # type: ignore[attr-defined]
