"""Reminders about a booked live call, applied by the periodic tick (issue 10).

The candidate hears in Telegram the day before and shortly before the call, in their language
and time zone, with the call's link; each interviewer gets a Slack DM shortly before, with
the link to the candidate's review thread.

What was sent lives in ``BookingReminder``, one row per booking, *sequence* and rule: a
rescheduled call (its sequence one higher) is reminded again at its new time, a reminder is
never sent twice, and a cancelled call is not looked at any more. The rules:

- A rule is due from its moment (24 h or 1 h before the start) until the call starts; never
  once the call has started.
- A rule whose moment came before the booking's last change is not sent at all: the person
  was just told the time (a call booked 13 h ahead gets no "day before" reminder).
- A tick that finds several rules due (the bot was down) sends the latest one only.
- Quiet hours (``ReminderLimit``), in the candidate's time zone: a reminder due at night
  waits for the morning when the morning still comes ``MORNING_MARGIN_MINUTES`` before the
  call; when it does not, the call itself is at night or at dawn, the candidate will be up
  for it, and the reminder goes at its time. A "day before" reminder still waiting when the
  "soon" one is due is replaced by it. Interviewers' DMs have no quiet hours: the call is
  during their working hours, and Slack's own notification schedule applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.flows import blind_review, escaping, outgoing, review
from bot.flows.conversation import Conversation, of_interview
from bot.flows.moments import in_readers_zone
from bot.flows.reminders import quiet_at, quiet_ends
from bot.limits import CallReminderLimit
from storage.models import (
    Booking,
    BookingReminder,
    BookingSeat,
    BookingStatus,
    Interview,
)

THREAD_LINK_LABEL = "Open the candidate's review thread"


@dataclass(frozen=True)
class Rule:
    name: str  # as stored in BookingReminder.rule
    before: timedelta  # how long before the start it is due
    message: str  # the candidate's catalogue key; unused for the interviewers


DAY_BEFORE = Rule(
    "candidate:24h", timedelta(hours=CallReminderLimit.DAY_BEFORE_HOURS), "call.remind.day_before"
)
SOON = Rule("candidate:1h", timedelta(minutes=CallReminderLimit.SOON_MINUTES), "call.remind.soon")
INTERVIEWERS_SOON = Rule(
    "interviewers:1h", timedelta(minutes=CallReminderLimit.SOON_MINUTES), "interviewers"
)
CANDIDATE_RULES = (DAY_BEFORE, SOON)  # the earliest first
ALL_RULES = (*CANDIDATE_RULES, INTERVIEWERS_SOON)


def tick(session: Session, now: datetime) -> int:
    """Send every call reminder that is due; returns how many messages were queued."""
    horizon = now + max(rule.before for rule in ALL_RULES)
    upcoming = session.exec(
        select(Booking.id)
        .where(col(Booking.status) == BookingStatus.BOOKED)
        .where(col(Booking.starts_at) > now)
        .where(col(Booking.starts_at) <= horizon)
        .order_by(col(Booking.starts_at))
    ).all()
    return sum(_remind(session, booking_id, now) for booking_id in upcoming if booking_id)


def _remind(session: Session, booking_id: int, now: datetime) -> int:
    booking = session.get_one(Booking, booking_id)
    if not due(ALL_RULES, booking, _done(session, booking), now):
        return 0  # most minutes of the day before: nothing to do, and no lock taken for it
    # The interview's lock is the one the booking flows take: a reschedule or a cancel in
    # flight finishes first, and two ticks on two processes take turns.
    conv = of_interview(session, session.get_one(Interview, booking.interview_id), now)
    session.refresh(booking)
    if booking.status != BookingStatus.BOOKED or booking.starts_at <= now:
        return 0
    done = _done(session, booking)
    return _remind_candidate(conv, booking, done) + _remind_interviewers(conv, booking, done)


def _done(session: Session, booking: Booking) -> set[str]:
    """The rules already applied to the booking's current time."""
    return set(
        session.exec(
            select(BookingReminder.rule)
            .where(BookingReminder.booking_id == booking.id)
            .where(BookingReminder.sequence == booking.sequence)
        ).all()
    )


def due(rules: tuple[Rule, ...], booking: Booking, done: set[str], now: datetime) -> list[Rule]:
    """The rules of ``rules`` to apply now, earliest first (see the module's rules)."""
    return [
        rule
        for rule in rules
        if rule.name not in done
        and booking.updated_at <= booking.starts_at - rule.before <= now < booking.starts_at
    ]


def _remind_candidate(conv: Conversation, booking: Booking, done: set[str]) -> int:
    pending = due(CANDIDATE_RULES, booking, done, conv.now)
    if not pending or conv.candidate.telegram_chat_id is None:
        return 0
    if _waits_for_morning(conv, booking):
        return 0
    rule = pending[-1]  # after an outage, only the latest: one message, not two
    values = {
        "name": conv.candidate.name.split()[0] if conv.candidate.name.split() else "",
        "opening": conv.opening.title,
        "when": conv.when(booking.starts_at),
    }
    text = conv.text(rule.message, **values)
    link = call_link(conv, booking)
    if link:
        text += "\n" + conv.text("call.join", link=link)
    outgoing.to_candidate(conv.session, conv.chat_id, text, conv.now)
    _record(conv.session, booking, pending, conv.now)
    return 1


def _waits_for_morning(conv: Conversation, booking: Booking) -> bool:
    zone = conv.timezone()
    if not quiet_at(conv.now, zone):
        return False
    margin = timedelta(minutes=CallReminderLimit.MORNING_MARGIN_MINUTES)
    return quiet_ends(conv.now, zone) + margin <= booking.starts_at


def _remind_interviewers(conv: Conversation, booking: Booking, done: set[str]) -> int:
    pending = due((INTERVIEWERS_SOON,), booking, done, conv.now)
    if not pending:
        return 0
    interviewers = seats_of(conv.session, booking)
    text = _interviewer_text(conv, booking)
    thread = outgoing.ThreadLink(interview_id=conv.interview_id, label=THREAD_LINK_LABEL)
    for interviewer in interviewers:
        outgoing.to_team_member(
            conv.session,
            interviewer,
            text,
            conv.now,
            about=(conv.interview_id,),  # it names the candidate: erasure deletes it
            thread_link=thread,
        )
    _record(conv.session, booking, pending, conv.now)
    return len(interviewers)


def _interviewer_text(conv: Conversation, booking: Booking) -> str:
    if blind_review.card_shows_name(conv.opening):
        who = escaping.mrkdwn(conv.candidate.name)
    else:
        who = review.alias(conv.interview)  # what the thread calls them under blind review
    text = (
        f"⏰ Your live interview with *{who}* ({escaping.mrkdwn(conv.opening.title)}) "
        f"starts at {in_readers_zone(booking.starts_at)}."
    )
    link = call_link(conv, booking)
    if link:
        text += f"\nCall link: {escaping.mrkdwn(link)}"
    return text


def call_link(conv: Conversation, booking: Booking) -> str:
    """Where the call happens: the booking's own link, else the opening's fixed one."""
    return (booking.url or conv.opening.meeting_url or "").strip()


def seats_of(session: Session, booking: Booking) -> list[str]:
    """The interviewers of the booking's current time."""
    return list(
        session.exec(
            select(BookingSeat.interviewer)
            .where(BookingSeat.booking_id == booking.id)
            .where(col(BookingSeat.live).is_(True))
            .order_by(col(BookingSeat.id))
        ).all()
    )


def _record(session: Session, booking: Booking, rules: list[Rule], now: datetime) -> None:
    assert booking.id is not None
    for rule in rules:
        session.add(
            BookingReminder(
                booking_id=booking.id, sequence=booking.sequence, rule=rule.name, sent_at=now
            )
        )
    session.flush()
