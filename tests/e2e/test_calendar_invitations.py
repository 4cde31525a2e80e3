"""A booked call's calendar invitation, as its people receive it: the email an SMTP server
took (aiosmtpd), the file the candidate got in Telegram, the file under the Slack card; each
.ics parsed back with icalendar and read field by field, through book, move and cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import cast

from icalendar import Calendar, Event, vCalAddress
from sqlmodel import Session, select

from bot.flows import booking, erasure, invitations
from bot.flows.availability import Interval
from bot.sandbox.mailbox import Mailbox, Received
from bot.sandbox.slack_api import SlackMessage
from bot.sandbox.telegram_api import SentMessage
from bot.sandbox.world import RECRUITER, REVIEW_CHANNEL, TEAMMATE, World, eventually
from storage.models import Booking, Candidate, Interview, InterviewerHours, Opening
from tests.helpers.stories import invite, start_answering

JANE = "jane.doe@example.org"
TOM = "tom@acme.example"
# The Monday after New York's clocks go forward (14 March 2027): 10:00 there is 14:00 UTC.
CALL = Interval(datetime(2027, 3, 15, 14, 0, tzinfo=UTC), datetime(2027, 3, 15, 14, 45, tzinfo=UTC))
MOVED = Interval(CALL.start + timedelta(days=1), CALL.end + timedelta(days=1))
ROOM = "https://meet.example/backend-jane"


def calendar_of(message: EmailMessage) -> tuple[str, Calendar]:
    """The invitation part calendars read (multipart/alternative), its iTIP method, parsed;
    and the same bytes must come as the invite.ics attachment."""
    assert message.get_content_type() == "multipart/mixed"
    alternative = next(
        p for p in message.iter_parts() if p.get_content_type().startswith("multipart")
    )
    kinds = [p.get_content_type() for p in cast(EmailMessage, alternative).iter_parts()]
    assert kinds == ["text/plain", "text/html", "text/calendar"]
    part = list(cast(EmailMessage, alternative).iter_parts())[2]
    attachment = next(p for p in message.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    ics = str(part.get_content())
    assert attachment.get_content() == ics  # a text part: read back as text
    assert attachment.get_param("method") == part.get_param("method")
    return str(part.get_param("method")), Calendar.from_ical(ics)


def event_of(calendar: Calendar) -> Event:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return cast(Event, events[0])


def attendees(event: Event) -> list[str]:
    found = event["ATTENDEE"]  # one attendee is a value, several a list
    return [str(a) for a in (found if isinstance(found, list) else [found])]


def check_invitation(
    calendar: Calendar,
    *,
    method: str,
    uid: str,
    sequence: int,
    start: datetime,
    tom_name: str = "Tom Teammate",
) -> None:
    event = event_of(calendar)
    assert str(calendar["METHOD"]) == method
    assert str(event["UID"]) == uid
    assert event.decoded("SEQUENCE") == sequence
    # Written in the opening's zone, with that zone's VTIMEZONE beside it.
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event.decoded("DTSTART") == start
    assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    organizer = event["ORGANIZER"]
    assert (str(organizer), organizer.params["CN"]) == ("mailto:hiring@acme.example", "Acme Hiring")
    assert attendees(event) == [f"mailto:{JANE}", f"mailto:{TOM}"]
    # The interviewer by the name Slack shows (users.info), not their member id.
    names = [a.params["CN"] for a in cast(list[vCalAddress], event["ATTENDEE"])]
    assert names == ["Jane Doe", tom_name]
    assert str(event["URL"]) == ROOM and str(event["LOCATION"]) == ROOM
    assert str(event["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert str(event["SUMMARY"]) == "Interview: Jane Doe — Backend Engineer"


async def mails(mailbox: Mailbox, count: int) -> list[Received]:
    return await eventually(
        lambda: list(mailbox.received) if len(mailbox.received) >= count else None,
        seconds=30,
        what=f"{count} emails",
    )


async def document(world: World, chat_id: int, count: int) -> SentMessage:
    def found() -> SentMessage | None:
        docs = [m for m in world.telegram.messages_to(chat_id) if m.kind == "document"]
        return docs[count - 1] if len(docs) >= count else None

    return await eventually(found, seconds=30, what=f"Telegram document {count}")


async def thread_file(world: World, count: int) -> SlackMessage:
    def found() -> SlackMessage | None:
        card = world.slack.messages(REVIEW_CHANNEL)[0]
        shared = [m for m in world.slack.thread(REVIEW_CHANNEL, card.ts) if m.files]
        return shared[count - 1] if len(shared) >= count else None

    return await eventually(found, seconds=30, what=f"thread file {count}")


async def test_candidate_and_interviewers_get_the_invitation_everywhere_on_book_move_cancel(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        mailbox = w.mailbox
        token = await invite(w)
        jane = w.telegram.candidate(700_310, "Jane", "Doe")
        await start_answering(w, jane, token)

        def set_up(session: Session, now: datetime) -> int:
            interview = session.exec(select(Interview)).one()
            session.get_one(Candidate, interview.candidate_id).email = JANE
            session.get_one(Opening, interview.opening_id).timezone = "America/New_York"
            # Tom has hours and an address; Rita has hours but no address on file.
            session.add(
                InterviewerHours(
                    interviewer=TEAMMATE, time_zone="America/New_York", email=TOM, updated_at=now
                )
            )
            session.add(InterviewerHours(interviewer=RECRUITER, time_zone="UTC", updated_at=now))
            assert interview.id is not None
            return interview.id

        interview_id = w.bot.uow.run_sync(set_up)

        def book(session: Session, now: datetime) -> Booking:
            made = booking.book(
                session,
                interview_id=interview_id,
                interviewers=[TEAMMATE, RECRUITER],
                slot=CALL,
                now=now,
            )
            made.url = ROOM
            invitations.booked(session, made, now)
            return made

        booked = w.bot.uow.run_sync(book)
        assert booked.id is not None
        booking_id, uid = booked.id, booked.uid

        received = await mails(mailbox, 2)
        assert sorted(r.rcpt_tos for r in received) == [(JANE,), (TOM,)]
        for mail in received:
            method, calendar = calendar_of(mail.message)
            assert method == "REQUEST"
            check_invitation(calendar, method="REQUEST", uid=uid, sequence=0, start=CALL.start)
        to_jane = next(r.message for r in received if r.rcpt_tos == (JANE,))
        # (Python folds a long subject onto the next line and keeps the fold's space.)
        assert to_jane["Subject"].strip() == (
            "Your interview for Backend Engineer: Mon 15 Mar 2027, 10:00 America/New_York"
        )
        text = cast(EmailMessage, to_jane.get_body(("plain",))).get_content()
        assert "Hi Jane Doe," in text and ROOM in text
        page = cast(EmailMessage, to_jane.get_body(("html",))).get_content()
        assert f'<a href="{ROOM}">{ROOM}</a>' in page

        # The candidate's Telegram: the same invitation as a file, named for a calendar.
        sent = await document(w, jane.chat_id, 1)
        assert sent.payload["document"]["file_name"] == "interview.ics"
        assert "Mon 15 Mar 2027, 10:00 America/New_York" in (sent.text or "")
        assert sent.file_id is not None
        on_phone = Calendar.from_ical(w.telegram.stored_file(sent.file_id))
        check_invitation(on_phone, method="REQUEST", uid=uid, sequence=0, start=CALL.start)

        # The card's thread: the file, who got it by email and who could not.
        shared = await thread_file(w, 1)
        assert [f.filename for f in shared.files] == ["interview.ics"]
        in_slack = Calendar.from_ical(shared.files[0].data)
        check_invitation(in_slack, method="REQUEST", uid=uid, sequence=0, start=CALL.start)
        assert f"Emailed to Jane Doe (candidate), <@{TEAMMATE}>." in shared.text
        assert f"Not emailed: <@{RECRUITER}>: no email address on file" in shared.text

        # Moved: the same invitation (UID), one sequence higher, a REQUEST again.
        def move(session: Session, now: datetime) -> None:
            moved = booking.reschedule(session, booking_id=booking_id, slot=MOVED, now=now)
            invitations.moved(session, moved, now)

        w.bot.uow.run_sync(move)
        for mail in (await mails(mailbox, 4))[2:]:
            method, calendar = calendar_of(mail.message)
            assert method == "REQUEST"
            check_invitation(calendar, method="REQUEST", uid=uid, sequence=1, start=MOVED.start)
        moved_doc = await document(w, jane.chat_id, 2)
        assert moved_doc.file_id is not None
        check_invitation(
            Calendar.from_ical(w.telegram.stored_file(moved_doc.file_id)),
            method="REQUEST",
            uid=uid,
            sequence=1,
            start=MOVED.start,
        )
        assert "moved to" in (await thread_file(w, 2)).text

        # Cancelled: METHOD:CANCEL on the Content-Type and in the calendar, the same
        # attendees, sequence one higher again.
        def cancel(session: Session, now: datetime) -> None:
            gone = booking.cancel(session, booking_id=booking_id, now=now)
            invitations.cancelled(session, gone, now)

        w.bot.uow.run_sync(cancel)
        for mail in (await mails(mailbox, 6))[4:]:
            method, calendar = calendar_of(mail.message)
            assert method == "CANCEL"
            check_invitation(calendar, method="CANCEL", uid=uid, sequence=2, start=MOVED.start)
        cancelled_doc = await document(w, jane.chat_id, 3)
        assert cancelled_doc.file_id is not None
        assert str(Calendar.from_ical(w.telegram.stored_file(cancelled_doc.file_id))["METHOD"]) == (
            "CANCEL"
        )
        assert "Calendar cancellation" in (await thread_file(w, 3)).text


async def test_without_the_users_read_scope_an_interviewer_is_named_by_their_id(
    tmp_path: Path,
) -> None:
    # An install from before the scope was added: Slack refuses users.info; the invitation
    # still goes out, the interviewer named by their member id.
    async with World(data_dir=tmp_path) as w:
        mailbox = w.mailbox
        w.slack.granted_scopes.discard("users:read")
        await invite(w)

        _, uid = w.bot.uow.run_sync(_book_jane_with_tom)
        for mail in await mails(mailbox, 2):
            _, calendar = calendar_of(mail.message)
            check_invitation(
                calendar, method="REQUEST", uid=uid, sequence=0, start=CALL.start, tom_name=TEAMMATE
            )
        assert "users.info" in {c.method for c in w.slack.calls}  # asked, and refused


async def test_erasing_a_booked_candidate_cancels_the_call_without_naming_them(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path) as w:
        mailbox = w.mailbox
        token = await invite(w)
        jane = w.telegram.candidate(700_311, "Jane", "Doe")
        await start_answering(w, jane, token)

        interview_id, uid = w.bot.uow.run_sync(_book_jane_with_tom)
        await mails(mailbox, 2)
        shared = await thread_file(w, 1)
        await document(w, jane.chat_id, 1)

        w.bot.uow.run_sync(
            lambda s, now: erasure.erase_person(
                s, s.get_one(Interview, interview_id), by=RECRUITER, now=now
            )
        )

        # Tom's calendar drops the call; the cancellation does not name her.
        [cancel] = (await mails(mailbox, 3))[2:]
        assert cancel.rcpt_tos == (TOM,)
        method, calendar = calendar_of(cancel.message)
        event = event_of(calendar)
        assert (method, str(event["UID"]), event.decoded("SEQUENCE")) == ("CANCEL", uid, 1)
        assert attendees(event) == [f"mailto:{TOM}"]
        body = cast(EmailMessage, cancel.message.get_body(("plain",))).get_content()
        assert "Jane" not in body and b"Jane" not in calendar.to_ical()
        assert "Jane" not in str(cancel.message["Subject"])
        assert (
            str(event["SUMMARY"])
            == f"Interview: Withdrawn candidate #{interview_id} — Backend Engineer"
        )
        # The .ics under her card is deleted with the rest of the thread.
        await eventually(
            lambda: all(f.id != shared.files[0].id for f in w.slack.files) or None,
            seconds=30,
            what="the thread's invitation file deleted",
        )


def _book_jane_with_tom(session: Session, now: datetime) -> tuple[int, str]:
    """The one interview's candidate (given Jane's address, the opening in New York time)
    books CALL with Tom (an address, hours in UTC); the invitation is sent. Returns the
    interview's id and the booking's UID."""
    interview = session.exec(select(Interview)).one()
    session.get_one(Candidate, interview.candidate_id).email = JANE
    session.get_one(Opening, interview.opening_id).timezone = "America/New_York"
    session.add(InterviewerHours(interviewer=TEAMMATE, time_zone="UTC", email=TOM, updated_at=now))
    assert interview.id is not None
    made = booking.book(
        session, interview_id=interview.id, interviewers=[TEAMMATE], slot=CALL, now=now
    )
    made.url = ROOM
    invitations.booked(session, made, now)
    return interview.id, made.uid
