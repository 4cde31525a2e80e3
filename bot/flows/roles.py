"""Who may do what. Recruiters invite, decide and see everything; every teammate may review.

Recruiters are the Slack users named in ``HIREBOT_RECRUITERS`` plus those an existing
recruiter added with ``/hire recruiters add``. Reviewers are the members of the review channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from bot.errors import InvalidRequest, NotAllowed
from bot.flows import audit, escaping
from storage.models import Recruiter

# What only a recruiter may do: the ``/hire`` verb, or "verb sub" for grouped commands.
RECRUITER_ONLY = frozenset(
    {
        "invite",
        "advance",
        "book",
        "reject",
        "extend",
        "erase",
        "export",
        "audit",
        "remind",
        "opening new",
        "preview",
        "intro",
        "recruiters add",
        "recruiters remove",
        "webhooks",
    }
)
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^@?([UW][A-Z0-9]{2,})$")


def is_recruiter(session: Session, user: str, configured: Iterable[str]) -> bool:
    return user in set(configured) or session.get(Recruiter, user) is not None


def may(session: Session, action: str, user: str, configured: Iterable[str]) -> bool:
    return action not in RECRUITER_ONLY or is_recruiter(session, user, configured)


def refusal(action: str) -> str:
    return (
        f"Only recruiters can use `/hire {action}`. Ask a recruiter to add you with "
        "`/hire recruiters add @you`."
    )


def user_id(mention: str) -> str:
    """A Slack user id from ``<@U123|name>``, ``<@U123>`` or ``U123``."""
    match = _MENTION.match(mention.strip())
    if match is None:
        raise InvalidRequest(
            f"'{escaping.mrkdwn(mention)}' is not a Slack user. "
            "Mention them, e.g. `/hire recruiters add @jane`."
        )
    return match.group(1) or match.group(2)


def add(session: Session, *, user: str, by: str, configured: Iterable[str], now: datetime) -> str:
    if is_recruiter(session, user, configured):
        return f"<@{user}> is already a recruiter."
    session.add(Recruiter(user=user, added_by=by, created_at=now))
    audit.record(session, actor=by, action=audit.Action.RECRUITER_ADDED, now=now, user=user)
    return f"<@{user}> is now a recruiter: they can invite candidates and decide."


def remove(
    session: Session, *, user: str, by: str, configured: Iterable[str], now: datetime
) -> str:
    if user in set(configured):
        raise NotAllowed(
            f"<@{user}> is a recruiter by configuration (HIREBOT_RECRUITERS); "
            "remove them there and restart hirebot."
        )
    row = session.get(Recruiter, user)
    if row is None:
        return f"<@{user}> is not a recruiter."
    session.delete(row)
    audit.record(session, actor=by, action=audit.Action.RECRUITER_REMOVED, now=now, user=user)
    return f"<@{user}> is no longer a recruiter."


def everyone(session: Session, configured: Iterable[str]) -> list[str]:
    added = session.exec(select(Recruiter.user).order_by(col(Recruiter.created_at))).all()
    return sorted(set(configured)) + [u for u in added if u not in set(configured)]
