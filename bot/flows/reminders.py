"""Deadlines and reminders, applied by a periodic tick (APScheduler in the runtime).

What has been sent lives in ``ReminderSent`` (one row per interview and rule), so a restart
loses nothing and sends nothing twice, and two schedulers racing each other cannot both send:
the second insert fails on the primary key and its transaction rolls back.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.flows import answering, candidate_email, interview, review
from bot.flows.conversation import Conversation, of_interview
from bot.flows.lifecycle import ACTIVE
from bot.flows.moments import format_deadline
from bot.limits import ReminderLimit
from storage.models import Interview, Opening, ReminderSent


@dataclass(frozen=True)
class Rule:
    name: str  # "not_started:24", "deadline:72"
    due_at: datetime
    kind: str  # "not_started" | "before_deadline"


def tick(session: Session, now: datetime) -> int:
    """Expire what is past its deadline and send what reminders are due; returns messages.

    Most minutes nothing is due: two queries find which interviews have something to do,
    and only those are read whole and locked. Reading and locking each open interview, every
    minute, took the write lock for seconds at 200 open interviews, and every candidate's
    next step waited behind it.
    """
    active = [s.value for s in ACTIVE]
    rows = session.exec(
        select(Interview, Opening)
        .join(Opening, col(Opening.id) == col(Interview.opening_id))
        .where(col(Interview.status).in_(active))
    ).all()
    applied: dict[int, set[str]] = defaultdict(set)
    for interview_id, rule in session.exec(
        select(ReminderSent.interview_id, ReminderSent.rule)
        .join(Interview, col(Interview.id) == col(ReminderSent.interview_id))
        .where(col(Interview.status).in_(active))
    ).all():
        applied[interview_id].add(rule)
    sent = 0
    for row, opening in rows:
        assert row.id is not None
        pending = [r for r in rules(row, opening) if r.name not in applied[row.id]]
        if now < row.deadline_at and not any(r.due_at <= now for r in pending):
            continue
        conv = of_interview(session, row, now)
        if now >= conv.interview.deadline_at:
            interview.expire(conv)
            continue
        sent += _remind(conv)
    return sent


def rules(row: Interview, opening: Opening) -> list[Rule]:
    """Every reminder rule of the opening, applied to this interview."""
    created, deadline = row.created_at, row.deadline_at
    found = [
        Rule(f"not_started:{h}", created + timedelta(hours=h), "not_started")
        for h in opening.remind_not_started_hours
    ]
    found += [
        Rule(f"deadline:{h}", deadline - timedelta(hours=h), "before_deadline")
        for h in opening.remind_before_deadline_hours
    ]
    return sorted(found, key=lambda r: r.due_at)


def _remind(conv: Conversation) -> int:
    done = set(
        conv.session.exec(
            select(ReminderSent.rule).where(ReminderSent.interview_id == conv.interview_id)
        ).all()
    )
    answered = answering.answered_count(conv)
    not_started = answered == 0
    due = [
        r
        for r in rules(conv.interview, conv.opening)
        if r.name not in done
        and r.due_at <= conv.now
        and (r.kind == "before_deadline" or not_started)
    ]
    if not due:
        return 0
    if conv.candidate.telegram_chat_id is not None and quiet_at(conv.now, conv.timezone()):
        return 0  # due, but night where the candidate is: the morning tick sends it
    # After an outage several rules may be due at once: one message, the latest rule's.
    _send(conv, due[-1], answered)
    for rule in due:
        conv.session.add(
            ReminderSent(interview_id=conv.interview_id, rule=rule.name, sent_at=conv.now)
        )
    return 1


def _send(conv: Conversation, rule: Rule, answered: int) -> None:
    if conv.candidate.telegram_chat_id is None:
        # They never opened the link, so Telegram cannot reach them: by email if the recruiter
        # gave their address, and the team hears either way.
        emailed = candidate_email.reminder(conv.session, conv.interview, conv.now)
        review.note_in_thread(
            conv.session,
            conv.interview,
            "🔔 The candidate has not opened their invitation yet "
            f"(deadline {format_deadline(conv.interview.deadline_at)}). "
            + (
                "I've reminded them by email."
                if emailed
                else "You may want to nudge them by email."
            ),
            conv.now,
        )
        return
    values = {
        "name": conv.candidate.name.split()[0],
        "opening": conv.opening.title,
        "deadline": conv.deadline(),
    }
    if rule.kind == "not_started":
        minutes = max(5, round(sum(q.answer_seconds + q.prep_seconds for q in conv.questions) / 60))
        conv.say("remind.not_started", count=minutes, **values)
    else:
        conv.say("remind.before_deadline", answered=answered, total=len(conv.questions), **values)


def quiet_at(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether ``moment`` is night in ``zone``: no reminder goes out then."""
    hour = moment.astimezone(zone).hour
    return hour >= ReminderLimit.QUIET_FROM_HOUR or hour < ReminderLimit.QUIET_UNTIL_HOUR


def quiet_ends(moment: datetime, zone: ZoneInfo) -> datetime:
    """When the quiet hours ``moment`` falls in end (the next morning, or this one)."""
    local = moment.astimezone(zone)
    day = local.date()
    if local.hour >= ReminderLimit.QUIET_FROM_HOUR:
        day += timedelta(days=1)
    return datetime.combine(day, time(ReminderLimit.QUIET_UNTIL_HOUR), tzinfo=zone)
