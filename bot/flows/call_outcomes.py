"""After a live call: did it happen? Asked in the candidate's review thread, marked there.

Once a booked call has ended, the tick posts "Did the call happen?" in the thread, once per
booking and sequence, with Held / No-show buttons. A call moved after it ended (a no-show
given a new time) is asked about again at its new end, and marked afresh: a booking holds
one outcome, its current time's. Who may press them: the call's interviewers and the recruiters;
anyone else is told so and nothing changes. The post is edited to show who marked what.

A second press: the same answer again changes nothing. A different answer corrects the
mark, and is allowed to whoever marked it first (a slip of the finger) and to recruiters;
another interviewer is told who marked it and asked to talk to them. The buttons stay on
the post for that reason. The mark feeds ``/hire stats`` (``bot.flows.reports``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, NotAllowed, NotFound
from bot.flows import audit, review, roles, threads
from bot.flows.buttons import CallOutcome
from bot.flows.call_reminders import seats_of
from bot.flows.moments import in_readers_zone
from bot.flows.ports import Choice
from storage.models import Booking, BookingOutcome, BookingReminder, BookingStatus, Interview

ASKED = "outcome:asked"  # the BookingReminder rule that records the question was posted

OUTCOME_WORDS = {BookingOutcome.HELD: "held", BookingOutcome.NO_SHOW: "a no-show"}
_LABELS = {BookingOutcome.HELD: "✅ Held", BookingOutcome.NO_SHOW: "🚫 No-show"}


def ask(session: Session, now: datetime) -> int:
    """Ask in the thread of every call that has ended whether it happened; returns how many."""
    already = exists().where(
        and_(
            col(BookingReminder.booking_id) == col(Booking.id),
            col(BookingReminder.sequence) == col(Booking.sequence),
            col(BookingReminder.rule) == ASKED,
        )
    )
    ended = session.exec(
        select(Booking.id)
        .where(col(Booking.status) == BookingStatus.BOOKED)
        .where(col(Booking.ends_at) <= now)
        .where(~already)
        .order_by(col(Booking.ends_at))
    ).all()
    return sum(_ask(session, booking_id, now) for booking_id in ended if booking_id)


def _ask(session: Session, booking_id: int, now: datetime) -> int:
    booking = session.get_one(Booking, booking_id)
    review.existing_interview(session, booking.interview_id)  # the booking flows' lock
    session.refresh(booking)
    if booking.status != BookingStatus.BOOKED or booking.ends_at > now:
        return 0
    recorded = session.get(BookingReminder, (booking_id, booking.sequence, ASKED))
    if recorded is not None:
        return 0  # another process asked meanwhile
    session.add(
        BookingReminder(booking_id=booking_id, sequence=booking.sequence, rule=ASKED, sent_at=now)
    )
    posted = threads.post(
        session, booking.interview_id, _key(booking), _question(booking), now, _buttons(booking)
    )
    return int(posted)


def mark(
    session: Session,
    *,
    booking_id: int,
    outcome: BookingOutcome,
    by: str,
    recruiters: Iterable[str],
    now: datetime,
) -> str:
    """Record whether the call happened; returns a line for the presser ("" when the post's
    edit says it all)."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("That call no longer exists.")
    review.existing_interview(session, booking.interview_id)  # a second press waits here
    session.refresh(booking)
    recruiter = roles.is_recruiter(session, by, recruiters)
    if not recruiter and by not in seats_of(session, booking):
        raise NotAllowed(
            "Only the call's interviewers or a recruiter can mark whether it happened."
        )
    if booking.status != BookingStatus.BOOKED:
        raise IllegalTransition("That call was cancelled: there is nothing to mark.")
    if booking.ends_at > now:
        raise IllegalTransition("That call has not ended yet: mark it once it is over.")
    current = _current_outcome(booking)
    if current == outcome:
        return f"<@{booking.outcome_by}> already marked this call {OUTCOME_WORDS[outcome]}."
    if current is not None and booking.outcome_by != by and not recruiter:
        raise NotAllowed(
            f"<@{booking.outcome_by}> marked this call {OUTCOME_WORDS[current]}. "
            "Only they or a recruiter can change it: please talk to them."
        )
    corrected = current is not None
    booking.outcome, booking.outcome_by, booking.outcome_at = outcome, by, now
    audit.record(
        session,
        actor=by,
        action=audit.Action.CALL_MARKED,
        now=now,
        interview_id=booking.interview_id,
        opening_id=session.get_one(Interview, booking.interview_id).opening_id,
        booking=booking.id,
        outcome=outcome,
        corrected=corrected,
    )
    session.flush()
    text = f"{_question(booking)}\n{_marked(booking, corrected)}"
    threads.edit(session, booking.interview_id, _key(booking), text, now, _buttons(booking))
    return ""


def _current_outcome(booking: Booking) -> BookingOutcome | None:
    """The mark of the booking's current time: one made before it was moved (a no-show,
    then a new time) was about the old call, and the new call is marked afresh."""
    if booking.outcome is None or booking.outcome_at is None:
        return None
    return BookingOutcome(booking.outcome) if booking.outcome_at >= booking.updated_at else None


def _question(booking: Booking) -> str:
    return f"📞 Did the live call on {in_readers_zone(booking.starts_at)} happen?"


def _marked(booking: Booking, corrected: bool) -> str:
    assert booking.outcome is not None and booking.outcome_at is not None
    outcome = BookingOutcome(booking.outcome)
    verb = "corrected it to" if corrected else "marked it"
    return (
        f"{_LABELS[outcome].split(' ', 1)[0]} <@{booking.outcome_by}> {verb} "
        f"*{OUTCOME_WORDS[outcome]}* on {in_readers_zone(booking.outcome_at)}."
    )


def _buttons(booking: Booking) -> tuple[Choice, ...]:
    assert booking.id is not None
    return tuple(
        Choice(label, CallOutcome(outcome, booking.id).pack()) for outcome, label in _LABELS.items()
    )


def _key(booking: Booking) -> str:
    return f"call:{booking.id}:{booking.sequence}"
