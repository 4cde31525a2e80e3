"""Email through the outbox to a real SMTP server (aiosmtpd on 127.0.0.1): what the mailbox
receives, and what becomes of a message the server refuses or cannot take now."""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlmodel import select

from bot.config import Settings
from bot.delivery import Delivery
from bot.errors import DeliveryDeferred
from bot.flows import outgoing
from bot.flows.meeting import Invitation, InvitationMethod, Meeting, Person
from bot.flows.ports import CandidateChannel, MailChannel, ReviewChannel
from bot.limits import DeliveryLimit
from bot.mail.smtp import MailNotSetUp, SmtpMailer, mail_channel
from bot.sandbox.mailbox import Mailbox
from bot.sandbox.world import eventually, free_port
from bot.unit_of_work import UnitOfWork
from storage import outbox
from storage.db import Database, make_engine
from storage.media import MediaFolder
from storage.models import OutboxMessage, OutboxStatus
from tests.helpers.flows import RECRUITER, REVIEW_CHANNEL, FlowWorld, migrated_template

JANE = "jane.doe@example.org"
SENDER = "Acme hiring <hiring@acme.example>"
REPLY_TO = "rita@acme.example"
SECRET_BODY = "Your interview is on Monday. (a body no log may show)"


def mailer(port: int, credentials: str = "") -> SmtpMailer:
    settings = Settings(
        smtp_url=f"smtp://{credentials}127.0.0.1:{port}",
        mail_from=SENDER,
        mail_reply_to=REPLY_TO,
        _env_file=None,
    )
    channel = mail_channel(settings)
    assert isinstance(channel, SmtpMailer)
    return channel


class NoChat:
    """Telegram and Slack: not part of these stories; anything for them waits."""

    def __getattr__(self, name: str) -> Callable[..., Awaitable[None]]:
        async def elsewhere(*args: object, **kwargs: object) -> None:
            raise DeliveryDeferred(f"{name} is not part of an email story")

        return elsewhere


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_template(tmp_path_factory.mktemp("mail"))


@pytest.fixture
def uow(template: Path, tmp_path: Path) -> Iterator[UnitOfWork]:
    shutil.copyfile(template, tmp_path / "hirebot.db")
    db = Database(make_engine(f"sqlite:///{tmp_path / 'hirebot.db'}"))
    yield UnitOfWork(db, MediaFolder(tmp_path / "media"))
    db.dispose()


def make_delivery(uow: UnitOfWork, mail: MailChannel) -> tuple[Delivery, asyncio.Task[None]]:
    delivery = Delivery(
        uow,
        candidates=cast(CandidateChannel, NoChat()),
        reviews=cast(ReviewChannel, NoChat()),
        mail=mail,
    )
    uow.committed = delivery.wake
    return delivery, asyncio.create_task(delivery.run_forever(poll_seconds=0.2))


async def stop(delivery: Delivery, task: asyncio.Task[None]) -> None:
    delivery.stop_after_this_pass()
    await asyncio.wait_for(task, timeout=30)


def rows(uow: UnitOfWork) -> list[OutboxMessage]:
    return uow.run_sync(lambda s, _now: list(s.exec(select(OutboxMessage)).all()))


async def settled(uow: UnitOfWork, status: str) -> OutboxMessage:
    return await eventually(
        lambda: next((r for r in rows(uow) if r.status == status), None),
        seconds=20,
        what=f"the email to be {status}",
    )


def interview_meeting() -> Meeting:
    new_york = ZoneInfo("America/New_York")
    return Meeting(
        uid="booking-17@hirebot",
        sequence=0,
        start=datetime(2026, 3, 9, 10, 0, tzinfo=new_york),
        end=datetime(2026, 3, 9, 10, 45, tzinfo=new_york),
        zone="America/New_York",
        title="Live interview; Backend Engineer, round 2",
        url="https://meet.jit.si/hirebot-abc",
        organizer=Person(name="Rita Recruiter", email=REPLY_TO),
        attendees=(Person(name="Jane Doe", email=JANE),),
    )


def enqueue_invitation(
    uow: UnitOfWork, method: InvitationMethod = InvitationMethod.REQUEST
) -> None:
    def write(session: Any, now: datetime) -> None:
        outgoing.email(
            session,
            to=JANE,
            subject="Your interview with Acme:\r\nBcc: evil@example.org\nMonday 9 March",
            text=SECRET_BODY,
            html="<p>Your interview is on <b>Monday</b>.</p>",
            invitation=Invitation(meeting=interview_meeting(), method=method),
            now=now,
        )

    uow.run_sync(write)


async def test_an_invitation_arrives_with_both_bodies_and_the_calendar_outlook_expects(
    uow: UnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    async with Mailbox(port) as mailbox:
        with caplog.at_level(logging.DEBUG):
            before = datetime.now(UTC).replace(microsecond=0)
            enqueue_invitation(uow)
            delivery, task = make_delivery(uow, mailer(port))
            sent = await settled(uow, OutboxStatus.SENT)
            await stop(delivery, task)
    assert sent.ordering_key == outgoing.mail_key(JANE) and JANE not in sent.ordering_key
    (received,) = mailbox.received
    assert (received.mail_from, received.rcpt_tos) == ("hiring@acme.example", (JANE,))
    message = received.message
    assert message["From"] == SENDER
    assert message["To"] == JANE
    assert message["Reply-To"] == REPLY_TO
    # A name in the subject cannot add a header (or a recipient): it stays one line.
    assert message["Subject"] == "Your interview with Acme: Bcc: evil@example.org Monday 9 March"
    assert message["Bcc"] is None
    assert message["Message-ID"].endswith("@acme.example>")
    assert message["Date"]

    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, html, inline = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert plain.get_content().strip() == SECRET_BODY
    assert html.get_content_type() == "text/html"
    assert html.get_content().strip() == "<p>Your interview is on <b>Monday</b>.</p>"
    for part in (inline, attachment):
        assert part.get_content_type() == "text/calendar"
        assert part.get_param("method") == "REQUEST"
        assert part.get_content_charset() == "utf-8"
    assert attachment.get_filename() == "invite.ics"
    assert inline.get_content() == attachment.get_content()

    calendar = Calendar.from_ical(attachment.get_content())
    assert str(calendar["METHOD"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert before <= event.decoded("DTSTAMP") <= datetime.now(UTC)  # stamped when sent
    assert str(event["UID"]) == "booking-17@hirebot"
    assert str(event["SUMMARY"]) == "Live interview; Backend Engineer, round 2"
    assert event.decoded("DTSTART") == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    assert str(event["ATTENDEE"]) == f"mailto:{JANE}"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert SECRET_BODY not in logged and JANE not in logged and "Monday" not in logged


async def test_a_cancellation_goes_out_as_method_cancel(uow: UnitOfWork) -> None:
    port = free_port()
    async with Mailbox(port) as mailbox:
        enqueue_invitation(uow, InvitationMethod.CANCEL)
        delivery, task = make_delivery(uow, mailer(port))
        await settled(uow, OutboxStatus.SENT)
        await stop(delivery, task)
    (received,) = mailbox.received
    message = received.message
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert [p.get_param("method") for p in parts] == ["CANCEL", "CANCEL"]
    assert str(Calendar.from_ical(parts[1].get_content())["METHOD"]) == "CANCEL"


async def test_a_recipient_the_server_refuses_for_good_is_given_up_with_the_reason(
    uow: UnitOfWork, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    async with Mailbox(port, refuse=[f"550 5.1.1 <{JANE}>: Recipient address rejected"]) as mailbox:
        with caplog.at_level(logging.DEBUG):
            enqueue_invitation(uow)
            delivery, task = make_delivery(uow, mailer(port))
            failed = await settled(uow, OutboxStatus.FAILED)
            await stop(delivery, task)
    assert mailbox.received == [] and mailbox.tries == 1
    assert failed.attempts == 1  # tried once, not retried: a 5xx is the server's last word
    reason = failed.last_error or ""
    assert "refused the recipient: 550" in reason and "Recipient address rejected" in reason
    assert JANE not in reason  # the server quoted the address; the reason does not
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "given up" in logged and JANE not in logged and SECRET_BODY not in logged


async def test_a_temporary_refusal_is_retried_and_then_delivered(uow: UnitOfWork) -> None:
    port = free_port()
    async with Mailbox(port, refuse=["451 4.7.1 Greylisted, try again later"]) as mailbox:
        enqueue_invitation(uow)
        delivery, task = make_delivery(uow, mailer(port))
        sent = await settled(uow, OutboxStatus.SENT)
        await stop(delivery, task)
    assert len(mailbox.received) == 1
    assert mailbox.tries == 2 and sent.attempts == 2  # refused with a 451, then taken


async def test_a_server_that_is_down_is_retried_until_it_is_back(uow: UnitOfWork) -> None:
    port = free_port()  # nothing listens there yet
    enqueue_invitation(uow)
    delivery, task = make_delivery(uow, mailer(port))
    waiting = await eventually(
        lambda: next((r for r in rows(uow) if r.attempts >= 1), None), what="a failed attempt"
    )
    assert waiting.status == OutboxStatus.PENDING
    assert "cannot be reached" in (waiting.last_error or "")
    async with Mailbox(port) as mailbox:
        sent = await settled(uow, OutboxStatus.SENT)
        await stop(delivery, task)
    assert len(mailbox.received) == 1 and sent.attempts >= 2


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_the_credentials_in_the_url_log_in_and_a_refused_login_waits_for_a_fix(
    uow: UnitOfWork,
) -> None:
    port = free_port()
    async with Mailbox(port, login=("hiring@acme.example", "p:ss w0rd")) as mailbox:
        enqueue_invitation(uow)
        delivery, task = make_delivery(uow, mailer(port, "hiring%40acme.example:wrong@"))
        waiting = await eventually(
            lambda: next((r for r in rows(uow) if r.attempts >= 1), None), what="a refused login"
        )
        await stop(delivery, task)
        # Wrong credentials are the setting's fault, not the email's: kept, not given up.
        assert waiting.status == OutboxStatus.PENDING
        assert "refused our login (535)" in (waiting.last_error or "")
        assert "wrong" not in (waiting.last_error or "")

        delivery, task = make_delivery(uow, mailer(port, "hiring%40acme.example:p%3Ass%20w0rd@"))
        await settled(uow, OutboxStatus.SENT)
        await stop(delivery, task)
    assert len(mailbox.received) == 1


async def test_a_refused_email_about_a_candidate_is_told_in_their_thread(
    template: Path, tmp_path: Path
) -> None:
    world = FlowWorld.from_template(template, tmp_path)
    world.opening()
    jane = world.invite()

    def sent_earlier(session: Any, now: datetime) -> None:  # her card went out long ago
        for row in session.exec(select(OutboxMessage)).all():
            outbox.mark_sent(session, row.id, now)

    world.run(sent_earlier)
    db = Database(world.engine)
    uow = UnitOfWork(db, MediaFolder(tmp_path / "media"))
    port = free_port()
    try:
        async with Mailbox(port, refuse=[f"550 5.1.1 <{JANE}>: no such user"]):
            uow.run_sync(
                lambda s, now: outgoing.email(
                    s,
                    to=JANE,
                    subject="Your interview",
                    text=SECRET_BODY,
                    html="<p>Monday</p>",
                    interview_id=jane.interview_id,
                    now=now,
                )
            )
            delivery, task = make_delivery(uow, mailer(port))
            failed = await settled(uow, OutboxStatus.FAILED)
            await eventually(world.thread_notes, what="a note in Jane's thread")
            await stop(delivery, task)
        (note,) = world.thread_notes()
        assert note == (
            "The email to the candidate was refused by their mail server: "
            "550 5.1.1 &lt;recipient&gt;: no such user. "
            "Please check the address, or reach them another way."
        )
        assert JANE not in note and SECRET_BODY not in note
        assert failed.kind == outgoing.Kind.EMAIL
        (row,) = world.outbox(outgoing.Kind.THREAD_POST)
        assert row.ordering_key == outgoing.review_key(jane.interview_id)
    finally:
        db.dispose()
        world.close()


async def test_without_smtp_settings_an_email_is_given_up_saying_how_to_set_it_up(
    uow: UnitOfWork,
) -> None:
    assert isinstance(mail_channel(Settings(_env_file=None)), MailNotSetUp)
    enqueue_invitation(uow)
    delivery, task = make_delivery(uow, MailNotSetUp())
    failed = await settled(uow, OutboxStatus.FAILED)
    await stop(delivery, task)
    assert "email is not set up" in (failed.last_error or "")
    assert "HIREBOT_SMTP_URL" in (failed.last_error or "")


def test_an_email_row_reads_back_as_the_message_that_was_written() -> None:
    invitation = Invitation(meeting=interview_meeting(), method=InvitationMethod.CANCEL)
    message = outgoing.Email(to=JANE, subject="s", text="t", html="<p>t</p>", invitation=invitation)
    again = outgoing.read(message.kind, message.ordering_key, outgoing.encode(message))
    assert again == message
    assert isinstance(again, outgoing.Email) and again.invitation is not None
    assert again.invitation.meeting.start == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_an_email_that_keeps_failing_is_reported_to_the_recruiters_and_kept(
    template: Path, tmp_path: Path
) -> None:
    world = FlowWorld.from_template(template, tmp_path)
    world.opening()
    jane = world.invite()

    def sent_earlier(session: Any, now: datetime) -> None:
        for row in session.exec(select(OutboxMessage)).all():
            outbox.mark_sent(session, row.id, now)

    world.run(sent_earlier)
    db = Database(world.engine)
    uow = UnitOfWork(db, MediaFolder(tmp_path / "media"), recruiters=frozenset({RECRUITER}))
    port = free_port()
    try:
        async with Mailbox(port, login=("hiring@acme.example", "right")) as mailbox:

            def nine_tries_ago(session: Any, now: datetime) -> None:
                outgoing.email(
                    session,
                    to=JANE,
                    subject="Your interview",
                    text=SECRET_BODY,
                    html="<p>Monday</p>",
                    interview_id=jane.interview_id,
                    now=now,
                )
                (row,) = world_rows(session, outgoing.Kind.EMAIL)
                row.attempts = DeliveryLimit.REPORT_AFTER_ATTEMPTS - 1

            uow.run_sync(nine_tries_ago)
            delivery, task = make_delivery(uow, mailer(port, "hiring%40acme.example:hunter2@"))
            # Only the email's report: this world posts no card, so the thread note about the
            # late email is itself given up, and reported, whenever delivery gets to it.
            (dm,) = await eventually(
                lambda: [
                    row
                    for row in world.outbox(outgoing.Kind.NOTIFY_USER)
                    if row.payload["text"].startswith("An email about")
                ],
                what="the report",
            )
            await stop(delivery, task)
        assert mailbox.received == []
        assert dm.payload["user"] == RECRUITER
        assert dm.payload["text"] == (
            f"An email about candidate #{jane.interview_id} (Backend Engineer) in "
            f"<#{REVIEW_CHANNEL}> has failed {DeliveryLimit.REPORT_AFTER_ATTEMPTS} times "
            "(the mail server refused our login (535)). I keep trying, in order, and nothing "
            "behind it is lost."
        )
        (email_row,) = world.outbox(outgoing.Kind.EMAIL)
        assert email_row.status == OutboxStatus.PENDING  # kept: fixing the setting sends it
        # Jane's team reads that her email is late, in her thread.
        assert world.thread_notes() == [
            f"The email to the candidate has failed {DeliveryLimit.REPORT_AFTER_ATTEMPTS} times "
            "(the mail server refused our login (535)). I keep trying: it goes out once the "
            "mail server takes it."
        ]
        assert JANE not in dm.payload["text"] and "hunter2" not in str(email_row.last_error)
    finally:
        db.dispose()
        world.close()


def world_rows(session: Any, kind: str) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)).all())
