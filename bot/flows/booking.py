"""Booking the live interview: a slot held for all its interviewers, never twice.

Two candidates may press the same slot at the same moment on two processes. The check here
turns the usual case away with a clear answer; the database closes the race: on PostgreSQL
an exclusion constraint refuses overlapping live seats of one interviewer (migration 0010),
and on SQLite, which has one writer at a time, ``interviews.hold_the_writer`` takes the
write lock before the check, so the second booking reads the first one's seats.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.errors import HirebotError, IllegalTransition, InvalidRequest, NotFound
from bot.flows.availability import Interval
from storage import interviews
from storage.models import Booking, BookingSeat, BookingStatus, InterviewStatus


class SlotTaken(HirebotError):
    """Someone else took the slot (or one of its interviewers) first; nothing changed."""


TAKEN = "Sorry, that time was just taken. Here are the next free times."


def book(
    session: Session,
    *,
    interview_id: int,
    interviewers: Sequence[str],
    slot: Interval,
    now: datetime,
) -> Booking:
    """The interview's live call in ``slot``, with a seat for each interviewer."""
    interview = interviews.locked(session, interview_id)
    if interview is None:
        raise NotFound("That interview no longer exists.")
    if interview.status == InterviewStatus.WITHDRAWN:
        raise IllegalTransition("This interview was withdrawn: it takes no booking.")
    if live_booking(session, interview_id) is not None:
        raise IllegalTransition("A call is already booked: reschedule or cancel it instead.")
    _check_slot(interviewers, slot, now)
    booking = Booking(
        interview_id=interview_id,
        starts_at=slot.start,
        ends_at=slot.end,
        uid=f"{uuid.uuid4()}@hirebot",
        created_at=now,
        updated_at=now,
    )
    _take_seats(session, booking, interviewers, slot)
    return booking


def reschedule(session: Session, *, booking_id: int, slot: Interval, now: datetime) -> Booking:
    """Move a live booking to ``slot``: the same invitation (UID), its sequence one higher.

    If the new slot is taken the booking keeps its old time and seats.
    """
    booking = _live(session, booking_id)
    interviewers = interviewers_of(session, booking_id)
    _check_slot(interviewers, slot, now)
    _free_seats(session, booking_id)
    booking.starts_at, booking.ends_at = slot.start, slot.end
    booking.sequence += 1
    booking.updated_at = now
    _take_seats(session, booking, interviewers, slot)
    return booking


def cancel(session: Session, *, booking_id: int, now: datetime) -> Booking:
    """Cancel a live booking; its interviewers' time is free again at once."""
    booking = _live(session, booking_id)
    _free_seats(session, booking_id)
    booking.status = BookingStatus.CANCELLED
    booking.sequence += 1
    booking.updated_at = now
    session.flush()
    return booking


def withdraw(session: Session, interview_id: int, now: datetime) -> Booking | None:
    """The candidate is gone (their data erased): their call is off and its time free again.

    Returns the cancelled booking, if there was one, for the interviewers' CANCEL invitation.
    """
    live = live_booking(session, interview_id)
    if live is not None and live.id is not None:
        return cancel(session, booking_id=live.id, now=now)
    return None


def live_booking(session: Session, interview_id: int) -> Booking | None:
    return session.exec(
        select(Booking)
        .where(col(Booking.interview_id) == interview_id)
        .where(col(Booking.status) == BookingStatus.BOOKED)
    ).first()


def interviewers_of(session: Session, booking_id: int) -> list[str]:
    """Who holds a seat in a live booking: a reschedule keeps the same people."""
    return [seat.interviewer for seat in _seats(session, booking_id)]


def busy_with_bookings(session: Session, interviewer: str, window: Interval) -> list[Interval]:
    """The interviewer's live calls in ``window``: what the slot offer must leave out."""
    seats = session.exec(
        select(BookingSeat)
        .where(col(BookingSeat.interviewer) == interviewer)
        .where(col(BookingSeat.live).is_(True))
        .where(col(BookingSeat.starts_at) < window.end)
        .where(col(BookingSeat.ends_at) > window.start)
        .order_by(col(BookingSeat.starts_at))
    ).all()
    return [Interval(seat.starts_at, seat.ends_at) for seat in seats]


def _check_slot(interviewers: Sequence[str], slot: Interval, now: datetime) -> None:
    if not interviewers:
        raise InvalidRequest("This opening names no interviewer to book a call with.")
    if len(set(interviewers)) != len(interviewers):
        raise InvalidRequest("An interviewer is named twice for the same call.")
    if slot.start <= now:
        raise InvalidRequest("That time has passed. Please pick another one.")


def _take_seats(
    session: Session, booking: Booking, interviewers: Sequence[str], slot: Interval
) -> None:
    interviews.hold_the_writer(session)
    if any(_clashes(session, who, slot) for who in interviewers):
        raise SlotTaken(TAKEN)
    try:
        # A savepoint: a refused seat undoes this booking's rows only, and the caller's
        # transaction (a reschedule's freed seats included) rolls back as a whole.
        with session.begin_nested():
            session.add(booking)
            session.flush()
            assert booking.id is not None
            for who in interviewers:
                session.add(
                    BookingSeat(
                        booking_id=booking.id,
                        interviewer=who,
                        starts_at=slot.start,
                        ends_at=slot.end,
                    )
                )
            session.flush()
    except IntegrityError:
        raise SlotTaken(TAKEN) from None


def _clashes(session: Session, interviewer: str, slot: Interval) -> bool:
    return bool(busy_with_bookings(session, interviewer, slot))


def _live(session: Session, booking_id: int) -> Booking:
    booking = session.get(Booking, booking_id, with_for_update=True)
    if booking is None:
        raise NotFound("That booking no longer exists.")
    if booking.status != BookingStatus.BOOKED:
        raise IllegalTransition("That call was cancelled already.")
    return booking


def _seats(session: Session, booking_id: int) -> list[BookingSeat]:
    return list(
        session.exec(
            select(BookingSeat)
            .where(col(BookingSeat.booking_id) == booking_id)
            .where(col(BookingSeat.live).is_(True))
        ).all()
    )


def _free_seats(session: Session, booking_id: int) -> None:
    for seat in _seats(session, booking_id):
        seat.live = False
    session.flush()
