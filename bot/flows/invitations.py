"""The calendar invitation of a booked call, sent wherever its people are (issue 10).

The booking flows (bot.flows.scheduling) call these after each change, inside their
transaction; what they enqueue goes out after commit through the outbox:

- an email with the invitation (.ics, RFC 5545/5546) to the candidate, in their language,
  and to each interviewer whose hours carry an email address;
- the same .ics as a file in the candidate's Telegram chat;
- the same .ics under the candidate's card in Slack, saying who it was emailed to and who
  it could not be (an interviewer with no address on file, a candidate with none).

One booking is one invitation for its whole life: the booking's UID, and its sequence,
which the booking flows raise on every move and on the cancellation (RFC 5546 §2.1.5).
Each copy is rendered when sent, so each has its own DTSTAMP. The organizer is the hiring
team's address (HIREBOT_MAIL_FROM), which flows do not read: the meeting leaves it empty and
delivery writes it in (``bot.delivery.Delivery(organizer=…)``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.flows import audit, escaping, outgoing, texts
from bot.flows.meeting import Invitation, InvitationMethod, Meeting, Person, meeting_link
from bot.flows.moments import format_deadline, known_zone
from storage.models import (
    Booking,
    BookingSeat,
    Candidate,
    Interview,
    InterviewerHours,
    Opening,
    ReviewPost,
)

# What a phone offers to open in its calendar app: the name says what it is.
ICS_FILENAME = "interview.ics"
# Team-side texts are English, like every note in the review thread.
_TEAM_LANGUAGE = "en"


class Change(StrEnum):
    """What happened to the call, as each text says it."""

    BOOKED = "booked"
    MOVED = "moved"
    CANCELLED = "cancelled"


def goes_out(session: Session, booking: Booking, now: datetime) -> bool:
    """Whether a calendar invitation can be made for ``booking``: someone on the call has an
    email address (the candidate's confirmation promises one only then)."""
    return _meeting(_read(session, booking, now)) is not None


def booked(session: Session, booking: Booking, now: datetime) -> None:
    """A new booking: METHOD:REQUEST to the candidate and each interviewer."""
    _audit(session, booking, audit.Action.CALL_BOOKED, now)
    _send(session, booking, Change.BOOKED, now)


def moved(session: Session, booking: Booking, now: datetime) -> None:
    """A rescheduled booking: the same UID, a higher SEQUENCE, METHOD:REQUEST again."""
    _audit(session, booking, audit.Action.CALL_MOVED, now)
    _send(session, booking, Change.MOVED, now)


def cancelled(session: Session, booking: Booking, now: datetime) -> None:
    """A cancelled booking: METHOD:CANCEL, to the same people the call was sent to."""
    _audit(session, booking, audit.Action.CALL_CANCELLED, now)
    _send(session, booking, Change.CANCELLED, now)


def _audit(session: Session, booking: Booking, action: audit.Action, now: datetime) -> None:
    # Every booking change passes here once, after the flow set ``changed_by``.
    interview = session.get_one(Interview, booking.interview_id)
    audit.about(
        session,
        interview,
        actor=audit.actor_of(booking.changed_by),
        action=action,
        now=now,
        booking=booking.id,
        sequence=booking.sequence,
    )


@dataclass(frozen=True)
class _Interviewer:
    user: str  # Slack user id
    person: Person | None  # None: no email address on file
    zone: ZoneInfo


@dataclass(frozen=True)
class _Call:
    """Everything the texts need about one booking, read once."""

    booking: Booking
    interview: Interview
    opening: Opening
    candidate: Candidate
    interviewers: tuple[_Interviewer, ...]

    @property
    def candidate_name(self) -> str:
        return " ".join(self.candidate.name.split())  # one line, whatever was typed

    @property
    def reachable(self) -> bool:
        """Whether the candidate's data is still here (not erased) to write to."""
        return self.candidate.erased_at is None


def _send(session: Session, booking: Booking, change: Change, now: datetime) -> None:
    call = _read(session, booking, now)
    meeting = _meeting(call)
    if meeting is None:
        if change is Change.BOOKED:  # said once: a move or a cancel changes nothing in it
            _tell_thread(session, call, change, None, now)
        return
    method = InvitationMethod.CANCEL if change is Change.CANCELLED else InvitationMethod.REQUEST
    invitation = Invitation(meeting=meeting, method=method)
    candidate = call.candidate
    addressed = _candidate_person(candidate) if call.reachable else None
    if addressed is not None:
        subject, text, body = _candidate_email(call, change)
        outgoing.email(
            session,
            to=addressed.email,
            subject=subject,
            text=text,
            html=body,
            invitation=invitation,
            interview_id=call.interview.id,
            now=now,
        )
    for interviewer in call.interviewers:
        if interviewer.person is None:
            continue
        subject, text, body = _interviewer_email(call, interviewer, change)
        outgoing.email(
            session,
            to=interviewer.person.email,
            subject=subject,
            text=text,
            html=body,
            invitation=invitation,
            interview_id=call.interview.id,
            to_whom=f"<@{interviewer.user}>",  # a refusal is told in the thread as theirs
            now=now,
        )
    if call.reachable and candidate.telegram_chat_id is not None:
        outgoing.document_to_candidate(
            session,
            chat_id=candidate.telegram_chat_id,
            filename=ICS_FILENAME,
            caption=_candidate_text(call, change, "caption"),
            invitation=invitation,
            now=now,
        )
    _tell_thread(session, call, change, invitation, now)


def _read(session: Session, booking: Booking, now: datetime) -> _Call:
    if not booking.url:
        # The booking flow sets the link; a booking without one still needs a room to meet in.
        opening_url = _opening_of(session, booking).meeting_url
        booking.url = meeting_link(opening_url)
        booking.updated_at = now
        session.add(booking)
        session.flush()
    interview = session.get_one(Interview, booking.interview_id)
    opening = session.get_one(Opening, interview.opening_id)
    candidate = session.get_one(Candidate, interview.candidate_id)
    return _Call(booking, interview, opening, candidate, _interviewers(session, booking, opening))


def _opening_of(session: Session, booking: Booking) -> Opening:
    interview = session.get_one(Interview, booking.interview_id)
    return session.get_one(Opening, interview.opening_id)


def _interviewers(session: Session, booking: Booking, opening: Opening) -> tuple[_Interviewer, ...]:
    """The people on the call at its current time: a move frees the old seats (not live) and
    takes new ones; a cancellation frees them all but keeps the booking's time."""
    seats = session.exec(
        select(BookingSeat)
        .where(col(BookingSeat.booking_id) == booking.id)
        .where(col(BookingSeat.starts_at) == booking.starts_at)
        .order_by(col(BookingSeat.id))
    ).all()
    users = list(dict.fromkeys(seat.interviewer for seat in seats))
    found: list[_Interviewer] = []
    for user in users:
        hours = session.get(InterviewerHours, user)
        zone = known_zone(hours.time_zone) if hours is not None else None
        found.append(
            _Interviewer(
                user=user,
                person=_person(user, hours.email if hours is not None else None, slack_user=user),
                zone=zone or ZoneInfo(opening.timezone),
            )
        )
    return tuple(found)


def _person(name: str, email: str | None, slack_user: str | None = None) -> Person | None:
    """Someone with a usable address, else None (nothing could be sent to them)."""
    if not email:
        return None
    try:
        return Person(name=name, email=email, slack_user=slack_user)
    except ValueError:
        return None


def _candidate_person(candidate: Candidate) -> Person | None:
    return _person(" ".join(candidate.name.split()), candidate.email)


def _meeting(call: _Call) -> Meeting | None:
    """The call as calendars see it; None when nobody on it has an email address (an
    invitation names its attendees by address, RFC 5545 §3.8.4.1)."""
    attendees = [p for i in call.interviewers if (p := i.person) is not None]
    candidate = _candidate_person(call.candidate) if call.reachable else None
    if candidate is not None:
        attendees.insert(0, candidate)
    if not attendees:
        return None
    opening = call.opening
    at = f" at {opening.company}" if opening.company else ""
    return Meeting(
        uid=call.booking.uid,
        sequence=call.booking.sequence,
        start=call.booking.starts_at,
        end=call.booking.ends_at,
        zone=opening.timezone if known_zone(opening.timezone) else "UTC",
        title=f"Interview: {call.candidate_name} — {opening.title}",
        description=f"Live interview for {opening.title}{at}. Join the call here:",
        url=call.booking.url,
        attendees=tuple(attendees),
    )


def _candidate_zone(call: _Call) -> ZoneInfo:
    return (
        known_zone(call.candidate.timezone or "")
        or known_zone(call.opening.timezone)
        or ZoneInfo("UTC")
    )


def _candidate_text(call: _Call, change: Change, part: str) -> str:
    language = call.candidate.language
    return texts.text(
        language,
        f"invitation.{part}.{change.value}",
        name=call.candidate_name,
        opening=call.opening.title,
        moment=texts.moment(language, call.booking.starts_at, _candidate_zone(call)),
        url=call.booking.url,
    )


def _candidate_email(call: _Call, change: Change) -> tuple[str, str, str]:
    body = _candidate_text(call, change, "body")
    return _candidate_text(call, change, "subject"), body, _html(body, call.booking.url)


def _interviewer_email(
    call: _Call, interviewer: _Interviewer, change: Change
) -> tuple[str, str, str]:
    when = texts.moment(_TEAM_LANGUAGE, call.booking.starts_at, interviewer.zone)
    who, opening, url = call.candidate_name, call.opening.title, call.booking.url
    if change is Change.CANCELLED:
        subject = f"Cancelled: interview with {who} ({opening})"
        body = (
            f"The interview with {who} for {opening} on {when} is cancelled.\n\n"
            "The attached cancellation removes it from your calendar."
        )
    else:
        moved = "moved to" if change is Change.MOVED else "booked for"
        subject = f"{'Moved' if change is Change.MOVED else 'Booked'}: interview with {who}"
        subject += f" ({opening}), {when}"
        body = (
            f"The interview with {who} for {opening} is {moved} {when}.\n\n"
            f"Join the call here: {url}\n\n"
            "The attached invitation adds it to your calendar."
        )
    return subject, body, _html(body, url)


def _html(text: str, url: str) -> str:
    """``text`` as HTML paragraphs: everything escaped (a name may hold markup), then the
    call's link made clickable."""
    escaped_url = html.escape(url, quote=True)
    link = f'<a href="{escaped_url}">{escaped_url}</a>'
    paragraphs = [
        html.escape(p).replace("\n", "<br>\n").replace(escaped_url, link)
        for p in text.split("\n\n")
    ]
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return f'<!DOCTYPE html>\n<html><body style="font-family: sans-serif">\n{body}\n</body></html>'


def _tell_thread(
    session: Session, call: _Call, change: Change, invitation: Invitation | None, now: datetime
) -> None:
    """The .ics under the card, with who got it by email and who did not (and why)."""
    assert call.interview.id is not None
    post = session.exec(
        select(ReviewPost).where(ReviewPost.interview_id == call.interview.id)
    ).first()
    if post is None or post.id is None:
        return  # no card yet to hang it under (the candidate never answered)
    comment = _thread_comment(call, change, invitation is not None)
    if invitation is None:
        outgoing.to_thread(
            session,
            interview_id=call.interview.id,
            review_post_id=post.id,
            text=comment,
            now=now,
        )
        return
    outgoing.invitation_to_thread(
        session,
        interview_id=call.interview.id,
        review_post_id=post.id,
        filename=ICS_FILENAME,
        title=_THREAD_TITLES[change],
        comment=comment,
        invitation=invitation,
        now=now,
    )


_THREAD_TITLES = {
    Change.BOOKED: "Calendar invitation",
    Change.MOVED: "Calendar invitation (moved)",
    Change.CANCELLED: "Calendar cancellation",
}
_HOW_TO_ADD_EMAIL = "add an email address with `/hire availability`"


def _thread_comment(call: _Call, change: Change, sent: bool) -> str:
    when = format_deadline(call.booking.starts_at)
    headline = {
        Change.BOOKED: f"📅 Calendar invitation for the call on {when}.",
        Change.MOVED: f"📅 Updated calendar invitation: the call moved to {when}.",
        Change.CANCELLED: f"📅 Calendar cancellation for the call on {when}.",
    }[change]
    if not sent:
        return (
            f"{headline} No calendar invitation went out: nobody on this call has an email "
            f"address on file ({_HOW_TO_ADD_EMAIL} for interviewers)."
        )
    candidate = call.candidate
    emailed: list[str] = []
    missed: list[str] = []
    if call.reachable:
        if _candidate_person(candidate) is not None:
            emailed.append(f"{escaping.mrkdwn(call.candidate_name)} (candidate)")
        else:
            where = " (sent in Telegram)" if candidate.telegram_chat_id is not None else ""
            missed.append(f"the candidate: no email address{where}")
    for interviewer in call.interviewers:
        mention = f"<@{interviewer.user}>"
        if interviewer.person is not None:
            emailed.append(mention)
        else:
            missed.append(f"{mention}: no email address on file ({_HOW_TO_ADD_EMAIL})")
    lines = [headline]
    if emailed:
        lines.append(f"Emailed to {', '.join(emailed)}.")
    if missed:
        lines.append("Not emailed: " + "; ".join(missed) + ".")
    return "\n".join(lines)
