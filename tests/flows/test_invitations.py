"""What a booking's change says, and to whom: the outbox rows ``invitations`` writes (emails
with their invitation, the candidate's Telegram file, the file under the Slack card), read
back as the delivery worker will read them; the .ics rendered from each and parsed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from icalendar import Calendar, vCalAddress
from sqlmodel import Session, select

from bot.calendar.invitation import render
from bot.flows import booking, erasure, interview, invitations, outgoing, undelivered
from bot.flows.availability import Interval
from bot.flows.meeting import JITSI_BASE_URL, InvitationMethod, Person
from storage.models import Booking, Candidate, Interview, InterviewerHours, OutboxMessage
from tests.helpers.flows import RECRUITER, FlowWorld

ALEX, BEA = "U0ALEX", "U0BEA"
ALEX_MAIL = "alex@acme.example"
# A Tuesday after the invitation (T0 is Thursday 26 November 2026).
CALL = Interval(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), datetime(2026, 12, 1, 15, 30, tzinfo=UTC))
SENDER = Person(name="Acme hiring", email="hiring@acme.example")

EMAIL, DOCUMENT, THREAD = "email", "candidate.document", "review.thread.invitation"


def invited(
    world: FlowWorld,
    *,
    name: str = "Jane Doe",
    email: str | None = "jane@example.org",
    language: str = "en",
    chat: bool = True,
) -> int:
    """A candidate invited (their card open), with or without an email and a Telegram chat."""
    world.opening(timezone="Europe/Berlin", company="Acme")
    invitation = world.run(
        lambda s, now: interview.invite(
            s,
            opening_slug="backend-engineer",
            candidate_name=name,
            invited_by=RECRUITER,
            now=now,
            email=email,
            language=language,
        )
    )

    def tie_chat(session: Session, _now: datetime) -> None:
        candidate = session.exec(select(Candidate)).one()
        candidate.telegram_chat_id = 4242 if chat else None

    world.run(tie_chat)
    return invitation.interview_id


def hours(world: FlowWorld, who: str, email: str | None, zone: str = "America/New_York") -> None:
    world.run(
        lambda s, now: s.add(
            InterviewerHours(interviewer=who, time_zone=zone, email=email, updated_at=now)
        )
    )


def book(
    world: FlowWorld, interview_id: int, *who: str, url: str = "https://meet.example/x"
) -> int:
    def work(session: Session, now: datetime) -> int:
        made = booking.book(
            session, interview_id=interview_id, interviewers=list(who), slot=CALL, now=now
        )
        made.url = url
        invitations.booked(session, made, now)
        assert made.id is not None
        return made.id

    return world.run(work)


def read(row: OutboxMessage) -> Any:
    return outgoing.read(row.kind, row.ordering_key, row.payload)


def parsed(message: Any) -> Calendar:
    invitation = message.invitation
    return Calendar.from_ical(
        render(invitation.meeting, invitation.method, datetime.now(UTC), SENDER)
    )


def test_a_booking_emails_everyone_with_an_address_and_files_it_in_telegram_and_slack(
    world: FlowWorld,
) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    book(world, interview_id, ALEX)

    emails = [read(r) for r in world.outbox(EMAIL)]
    assert [e.to for e in emails] == ["jane@example.org", ALEX_MAIL]
    assert {e.interview_id for e in emails} == {interview_id}  # a refusal is told in the thread
    jane, alex = emails
    # The candidate reads the time in the opening's zone (she set none), in her language.
    assert (
        jane.subject == "Your interview for Backend Engineer: Tue 1 Dec 2026, 16:00 Europe/Berlin"
    )
    assert "Your interview for Backend Engineer is booked for Tue 1 Dec 2026, 16:00" in jane.text
    assert '<a href="https://meet.example/x">https://meet.example/x</a>' in jane.html
    # The interviewer reads it in their own zone.
    assert "Tue 1 Dec 2026, 10:00 America/New_York" in alex.subject
    for message in emails:
        assert message.invitation.method is InvitationMethod.REQUEST
        meeting = message.invitation.meeting
        assert meeting.organizer is None  # delivery writes in HIREBOT_MAIL_FROM
        assert (meeting.start, meeting.end, meeting.zone) == (CALL.start, CALL.end, "Europe/Berlin")
        assert [p.email for p in meeting.attendees] == ["jane@example.org", ALEX_MAIL]
        assert meeting.title == "Interview: Jane Doe — Backend Engineer"

    [document] = [read(r) for r in world.outbox(DOCUMENT)]
    assert (document.chat_id, document.filename) == (4242, "interview.ics")
    assert "Tue 1 Dec 2026, 16:00 Europe/Berlin" in document.caption
    assert document.invitation == jane.invitation  # one invitation, the same everywhere

    [shared] = [read(r) for r in world.outbox(THREAD)]
    assert shared.interview_id == interview_id and shared.filename == "interview.ics"
    assert shared.comment.splitlines()[1] == f"Emailed to Jane Doe (candidate), <@{ALEX}>."
    assert "Not emailed" not in shared.comment


def test_move_and_cancel_keep_the_uid_and_raise_the_sequence(world: FlowWorld) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    booking_id = book(world, interview_id, ALEX)
    later = Interval(CALL.start + timedelta(hours=2), CALL.end + timedelta(hours=2))
    mark = world.mark()

    def move(session: Session, now: datetime) -> None:
        invitations.moved(
            session, booking.reschedule(session, booking_id=booking_id, slot=later, now=now), now
        )

    world.run(move)
    moved = [read(r) for r in world.since(mark)]
    mark = world.mark()
    world.run(
        lambda s, now: invitations.cancelled(
            s, booking.cancel(s, booking_id=booking_id, now=now), now
        )
    )
    cancelled = [read(r) for r in world.since(mark)]
    uid = world.read(lambda s: s.get_one(Booking, booking_id).uid)

    assert [m.kind for m in moved] == [EMAIL, EMAIL, DOCUMENT, THREAD]
    assert [m.kind for m in cancelled] == [EMAIL, EMAIL, DOCUMENT, THREAD]
    for message in moved:
        event = parsed(message).walk("VEVENT")[0]
        assert (str(event["UID"]), event.decoded("SEQUENCE")) == (uid, 1)
        assert event.decoded("DTSTART") == later.start
    assert moved[0].subject.startswith("Moved: your interview for Backend Engineer is now")
    for message in cancelled:
        calendar = parsed(message)
        event = calendar.walk("VEVENT")[0]
        assert str(calendar["METHOD"]) == "CANCEL"
        assert (str(event["UID"]), event.decoded("SEQUENCE")) == (uid, 2)
        assert str(event["STATUS"]) == "CANCELLED"
        # The people the call is cancelled for, as RFC 5546 §3.2.5 asks.
        assert [str(a) for a in cast(list[vCalAddress], event["ATTENDEE"])] == [
            "mailto:jane@example.org",
            f"mailto:{ALEX_MAIL}",
        ]
    assert cancelled[0].subject == "Cancelled: your interview for Backend Engineer"
    assert cancelled[1].subject.startswith("Cancelled: interview with Jane Doe")


def test_no_email_for_a_candidate_without_one_but_telegram_and_slack_still(
    world: FlowWorld,
) -> None:
    interview_id = invited(world, email=None)
    hours(world, ALEX, ALEX_MAIL)
    book(world, interview_id, ALEX)

    assert [read(r).to for r in world.outbox(EMAIL)] == [ALEX_MAIL]
    [document] = [read(r) for r in world.outbox(DOCUMENT)]
    assert [p.email for p in document.invitation.meeting.attendees] == [ALEX_MAIL]
    [shared] = [read(r) for r in world.outbox(THREAD)]
    assert "Not emailed: the candidate: no email address (sent in Telegram)." in shared.comment


def test_an_interviewer_without_an_address_is_skipped_and_the_thread_names_them(
    world: FlowWorld,
) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    hours(world, BEA, None)
    book(world, interview_id, ALEX, BEA)

    assert [read(r).to for r in world.outbox(EMAIL)] == ["jane@example.org", ALEX_MAIL]
    [shared] = [read(r) for r in world.outbox(THREAD)]
    assert f"Emailed to Jane Doe (candidate), <@{ALEX}>." in shared.comment
    assert f"Not emailed: <@{BEA}>: no email address on file" in shared.comment
    assert "/hire availability" in shared.comment


def test_nobody_with_an_address_means_no_invitation_and_the_thread_says_so(
    world: FlowWorld,
) -> None:
    interview_id = invited(world, email=None)
    booking_id = book(world, interview_id, ALEX)  # no hours row at all

    assert world.outbox(EMAIL) == [] and world.outbox(DOCUMENT) == []
    assert world.outbox(THREAD) == []
    assert "No calendar invitation went out" in world.thread_notes()[-1]
    notes = len(world.thread_notes())
    world.run(
        lambda s, now: invitations.cancelled(
            s, booking.cancel(s, booking_id=booking_id, now=now), now
        )
    )
    assert len(world.thread_notes()) == notes  # said once, at the booking


def test_a_name_full_of_markup_is_escaped_wherever_it_lands(world: FlowWorld) -> None:
    name = 'Eve <b>"Boss"</b>; *all*, <!channel>\nBcc: x@evil.example'
    interview_id = invited(world, name=name)
    hours(world, ALEX, ALEX_MAIL)
    book(world, interview_id, ALEX)

    jane = read(world.outbox(EMAIL)[0])
    assert "<b>" not in jane.html and "&lt;b&gt;&quot;Boss&quot;&lt;/b&gt;" in jane.html
    assert "\n" not in jane.subject
    flat = 'Eve <b>"Boss"</b>; *all*, <!channel> Bcc: x@evil.example'
    calendar = parsed(jane)
    event = calendar.walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == f"Interview: {flat} — Backend Engineer"
    # A quoted parameter cannot hold a double quote (RFC 5545 §3.1): it becomes a single one.
    attendee = cast(list[vCalAddress], event["ATTENDEE"])[0]
    assert attendee.params["CN"] == flat.replace('"', "'")
    [shared] = [read(r) for r in world.outbox(THREAD)]
    assert "<!channel>" not in shared.comment and "&lt;!channel&gt;" in shared.comment


def test_the_candidate_reads_it_in_their_language(world: FlowWorld) -> None:
    interview_id = invited(world, language="de")
    hours(world, ALEX, ALEX_MAIL)
    book(world, interview_id, ALEX)

    jane = read(world.outbox(EMAIL)[0])
    assert (
        jane.subject
        == "Ihr Interview für Backend Engineer: Di., 1. Dez. 2026, 16:00 Uhr (Europe/Berlin)"
    )
    assert jane.text.startswith("Hallo Jane Doe,")
    assert read(world.outbox(DOCUMENT)[0]).caption.startswith("📅 Ihr Interview")
    assert read(world.outbox(EMAIL)[1]).subject.startswith("Booked: interview with Jane Doe")


def test_a_booking_without_a_link_gets_a_room_that_is_kept(world: FlowWorld) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    booking_id = book(world, interview_id, ALEX, url="")

    stored = world.read(lambda s: s.get_one(Booking, booking_id).url)
    assert stored.startswith(JITSI_BASE_URL + "hirebot-")
    assert read(world.outbox(EMAIL)[0]).invitation.meeting.url == stored


def test_an_erased_candidate_is_not_written_to_and_interviewers_get_the_cancellation(
    world: FlowWorld,
) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    booking_id = book(world, interview_id, ALEX)
    mark = world.mark()

    def erase_then_cancel(session: Session, now: datetime) -> None:
        candidate = session.exec(select(Candidate)).one()
        candidate.name, candidate.email = f"Withdrawn candidate #{interview_id}", None
        candidate.telegram_chat_id, candidate.erased_at = None, now
        invitations.cancelled(session, booking.cancel(session, booking_id=booking_id, now=now), now)

    world.run(erase_then_cancel)
    rows = [read(r) for r in world.since(mark)]
    assert [m.kind for m in rows] == [EMAIL, THREAD]
    assert rows[0].to == ALEX_MAIL
    assert "Jane" not in str(outgoing.encode(rows[0])) and "jane@" not in str(
        outgoing.encode(rows[1])
    )


def test_erasing_a_booked_candidate_sends_the_interviewers_an_anonymous_cancellation(
    world: FlowWorld,
) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    booking_id = book(world, interview_id, ALEX)
    uid = world.read(lambda s: s.get_one(Booking, booking_id).uid)

    world.run(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, interview_id), by=RECRUITER, now=now
        )
    )

    left = [read(r) for r in world.outbox(EMAIL)]
    # The booking's REQUESTs named her: gone with her. The CANCEL names nobody.
    assert [(m.to, m.invitation.method) for m in left] == [(ALEX_MAIL, InvitationMethod.CANCEL)]
    meeting = left[0].invitation.meeting
    assert (meeting.uid, meeting.sequence) == (uid, 1)
    assert meeting.title == f"Interview: Withdrawn candidate #{interview_id} — Backend Engineer"
    assert [p.email for p in meeting.attendees] == [ALEX_MAIL]
    assert "Jane" not in str([r.payload for r in world.outbox()])


def test_an_invitation_on_its_way_to_the_thread_during_erasure_keeps_its_place_but_not_her(
    world: FlowWorld,
) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    book(world, interview_id, ALEX)

    def sending(session: Session, now: datetime) -> None:
        # Delivery has claimed the thread's file: it is being uploaded as erasure runs.
        [row] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == THREAD)).all()
        row.locked_until = now + timedelta(seconds=30)

    world.run(sending)
    world.run(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, interview_id), by=RECRUITER, now=now
        )
    )

    [kept] = [read(r) for r in world.outbox(THREAD)]
    assert "Jane" not in str(outgoing.encode(kept)) and "jane@" not in str(outgoing.encode(kept))
    assert kept.invitation.meeting.title.startswith(
        f"Interview: Withdrawn candidate #{interview_id}"
    )
    assert [p.email for p in kept.invitation.meeting.attendees] == [ALEX_MAIL]
    # The clean-up comes after it in the thread's order, and deletes what it posted.
    thread = [r.kind for r in world.outbox() if r.ordering_key == f"review:{interview_id}"]
    assert thread.index(THREAD) < thread.index("review.thread.clear")


def test_a_refused_interviewer_email_is_told_in_the_thread_as_theirs(world: FlowWorld) -> None:
    interview_id = invited(world)
    hours(world, ALEX, ALEX_MAIL)
    book(world, interview_id, ALEX)
    jane, alex = [read(r) for r in world.outbox(EMAIL)]
    assert (jane.to_whom, alex.to_whom) == (None, f"<@{ALEX}>")

    def refused(whom: str | None) -> None:  # what delivery does with a 5xx (tests/mail)
        world.run(
            lambda s, now: undelivered.email_refused(
                s,
                interview_id=interview_id,
                reason="refused",
                server_said="550 no such user",
                now=now,
                to_whom=whom,
            )
        )

    refused(jane.to_whom)
    refused(alex.to_whom)
    check = "Please check the address, or reach them another way."
    assert world.thread_notes()[-2:] == [
        f"The email to the candidate was refused by their mail server: 550 no such user. {check}",
        f"The email to <@{ALEX}> was refused by their mail server: 550 no such user. {check}",
    ]
