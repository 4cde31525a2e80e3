"""The calendar invitation of a booked call, sent wherever its people are (issue 10).

The booking flows (bot.flows.scheduling) call these after each change, inside their
transaction; what they enqueue goes out after commit through the outbox.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import Booking


def booked(session: Session, booking: Booking, now: datetime) -> None:
    """A new booking: METHOD:REQUEST to the candidate and each interviewer."""


def moved(session: Session, booking: Booking, now: datetime) -> None:
    """A rescheduled booking: the same UID, a higher SEQUENCE, METHOD:REQUEST again."""


def cancelled(session: Session, booking: Booking, now: datetime) -> None:
    """A cancelled booking: METHOD:CANCEL."""
