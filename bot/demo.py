"""``hirebot demo``: one whole interview, played against local emulators, printed as it goes.

No tokens, no network: the Telegram and Slack emulators run on 127.0.0.1, the real SDKs talk
to them, answers are the shipped voice/video samples and Whisper is the packaged tiny.en.
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import icalendar
from sqlmodel import Session, select

from bot.sandbox.mailbox import Received
from bot.sandbox.page_text import page_text
from bot.sandbox.share_link import make_share_link
from bot.sandbox.slack_api import SlackMessage
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import (
    INVITE_LINK,
    RECRUITER,
    REVIEW_CHANNEL,
    SAMPLES,
    TEAMMATE,
    World,
    answer_question,
    eventually,
    visible_text,
)
from bot.slack.relay_form import RELAY_CONFIRM, SHORTCUT, TEXT_BLOCK
from bot.transcription.media import playable_copy
from bot.unit_of_work import utc_now
from storage.models import Booking

CANDIDATE_ID = 700_001
JANES_EMAIL = "jane.doe@example.com"
_HOURS_FORM = "interviewer_hours"
# Rita's answers in the /hire availability form, as Slack sends a submitted view's state.
_RITAS_HOURS = {
    "time_zone": {"value": {"type": "plain_text_input", "value": "Europe/Berlin"}},
    "days": {
        "value": {
            "type": "checkboxes",
            "selected_options": [{"value": str(day)} for day in range(5)],
        }
    },
    "start": {"value": {"type": "timepicker", "selected_time": "09:00"}},
    "hours": {"value": {"type": "timepicker", "selected_time": "17:00"}},
    "slot_minutes": {"value": {"type": "number_input", "value": "45"}},
    "buffer_minutes": {"value": {"type": "number_input", "value": "15"}},
    "max_per_day": {"value": {"type": "number_input", "value": "4"}},
    "days_off": {"value": {"type": "plain_text_input", "value": ""}},
    "email": {"value": {"type": "plain_text_input", "value": "rita@acme.example"}},
    "feed": {"value": {"type": "plain_text_input", "value": ""}},
}


_ATTACHED = {
    "document": "📎 a document: ",
    "voice": "🎤 a voice message: ",
    "video": "📹 a video: ",
    "video_note": "⏺️ a round video: ",
}


class Narrator:
    """Prints what each side has seen since the last step."""

    def __init__(self, world: World, candidate: SandboxCandidate, verbose: bool) -> None:
        self._world = world
        self._candidate = candidate
        self._verbose = verbose
        self._seen_telegram = 0
        self._seen_slack: set[tuple[str, int]] = set()
        self._started = time.monotonic()

    def step(self, who: str, action: str) -> None:
        self._print(f"\n[{time.monotonic() - self._started:5.1f}s] {who}: {action}")

    def show_new(self) -> None:
        inbox = self._candidate.inbox()
        for message in inbox[self._seen_telegram :]:
            buttons = "  ".join(f"[{label}]" for label, _ in message.buttons())
            attached = _ATTACHED.get(message.kind, "")
            self._print(_indent(f"Telegram → Jane: {attached}{message.text} {buttons}".rstrip()))
        self._seen_telegram = len(inbox)
        for post in self._slack_messages():
            key = (post.ts, post.edits)
            if key in self._seen_slack:
                continue
            self._seen_slack.add(key)
            where = "thread" if post.thread_ts else "#backend-reviews"
            edited = " (updated)" if post.edits else ""
            files = "".join(f"\n📎 {f.filename} ({len(f.data)} bytes)" for f in post.files)
            self._print(_indent(f"Slack {where}{edited}: {_shown(visible_text(post))}{files}"))

    def _slack_messages(self) -> list[SlackMessage]:
        slack = self._world.slack
        parents = slack.messages(REVIEW_CHANNEL)
        replies = [r for p in parents for r in slack.thread(REVIEW_CHANNEL, p.ts)]
        return parents + replies

    def _print(self, text: str) -> None:
        if self._verbose:
            print(text, flush=True)


class ShiftedClock:
    """The real clock, moved forward on demand: the demo skips to the hour before the call
    without waiting for it (the bot reads every "now" from here)."""

    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.shift


def _show_mail(mail: list[Received], verbose: bool) -> None:
    """What each recipient's mail program shows: sender, subject, the text, the invitation."""
    if not verbose:
        return
    for received in mail:
        message = received.message
        subject = " ".join(str(message["Subject"]).split())
        print(_indent(f"📧 Email to {message['To']}\n   From: {message['From']}"))
        print(_indent(f"   Subject: {subject}"))
        text = message.get_body(preferencelist=("plain",))
        if isinstance(text, EmailMessage):
            print(_indent("   " + text.get_content().strip().replace("\n", "\n   ")))
        for part in message.walk():
            if part.get_content_type() == "text/calendar" and part.get_filename():
                _show_invitation(part.get_content())


def _show_invitation(ics: str | bytes) -> None:
    calendar = icalendar.Calendar.from_ical(ics)
    for event in calendar.walk("VEVENT"):
        start = event.decoded("dtstart")
        attendees = event.get("attendee", [])
        people = attendees if isinstance(attendees, list) else [attendees]
        lines = [
            f"📎 invite.ics: METHOD:{calendar.get('method')} UID:{event.get('uid')} "
            f"SEQUENCE:{event.get('sequence')}",
            f"   {event.get('summary')}",
            f"   {start:%a %d %b %Y %H:%M} {_zone_of(event)}, "
            f"{len(calendar.walk('VTIMEZONE'))} VTIMEZONE block(s)",
            f"   organizer {_who(event['organizer'])}; attendees "
            + ", ".join(_who(person) for person in people),
            f"   {event.get('url')}",
        ]
        print(_indent("   " + "\n   ".join(lines)))


def _zone_of(event: icalendar.cal.Component) -> str:
    zone = event["dtstart"].params.get("TZID")
    return f"({zone})" if zone else "UTC"


def _who(address: Any) -> str:
    name = address.params.get("CN")
    return f"{name} <{str(address).removeprefix('mailto:')}>" if name else str(address)


_DATE_TOKEN = re.compile(r"<!date\^\d+\^[^|>]*\|([^>]*)>")


def _shown(text: str) -> str:
    """Slack's ``<!date>`` tokens as a reader sees them (here: their UTC fallback)."""
    return _DATE_TOKEN.sub(r"\1", text)


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


async def play(verbose: bool = True, data_dir: Path | None = None) -> int:
    started = time.monotonic()
    clock = ShiftedClock()
    with tempfile.TemporaryDirectory(prefix="hirebot-demo-") as tmp:
        async with World(data_dir=data_dir or Path(tmp), clock=clock) as world:
            summary = await _script(world, clock, verbose)
    print(f"\nDemo finished in {time.monotonic() - started:.1f} s: {summary}")
    return 0


async def _script(world: World, clock: ShiftedClock, verbose: bool) -> str:
    slack, telegram = world.slack, world.telegram
    rita, tom = slack.teammate(RECRUITER), slack.teammate(TEAMMATE)
    jane = telegram.candidate(CANDIDATE_ID, "Jane", "Doe")
    say = Narrator(world, jane, verbose)

    mail = world.mailbox.received
    say.step("Rita (recruiter, Slack)", f"/hire invite backend-engineer Jane Doe {JANES_EMAIL}")
    # Slack sends a typed address as a mailto link.
    invite = f"invite backend-engineer Jane Doe <mailto:{JANES_EMAIL}|{JANES_EMAIL}>"
    reply = await rita.slash("/hire", invite, channel=REVIEW_CHANNEL)
    say._print(_indent(f"Slack (only Rita sees this): {reply.text}"))
    match = INVITE_LINK.search(reply.text or "")
    if match is None:
        raise AssertionError(f"no invite link in the reply: {reply.text!r}")
    await eventually(lambda: len(mail) >= 1, what="the invitation email")
    say.show_new()
    _show_mail(mail[:1], verbose)

    say.step("Jane (candidate, Telegram)", "opens the link: /start <token>")
    await jane.send_command("/start", match.group(2))
    await jane.wait_for_message("Do you agree?")
    say.show_new()

    say.step("Jane", "presses [I agree]")
    await jane.press("I agree")
    await jane.wait_for_message("Question 1 of 2.")
    say.show_new()

    say.step("Jane", "presses [Ready], records a voice note (answer1.ogg), presses [Submit]")
    await answer_question(jane, 1, 2, lambda: jane.send_voice(SAMPLES / "answer1.ogg"))
    say.show_new()

    say.step("Jane", "presses [Ready], records a video note (answer2.mp4), presses [Submit]")
    await answer_question(jane, 2, 2, lambda: jane.send_video_note(SAMPLES / "answer2.mp4"))
    await jane.wait_for_message("That's everything")
    say.show_new()

    say.step("hirebot", "posted each answer at once; Whisper's transcripts replace 'pending'")
    parent = await eventually(lambda: next(iter(slack.messages(REVIEW_CHANNEL)), None))

    def transcribed() -> bool:
        thread = slack.thread(REVIEW_CHANNEL, parent.ts)
        answers = [m for m in thread if m.text.startswith("*Q")]
        done = any("completed" in m.text for m in thread)
        return done and len(answers) == 2 and not any("pending" in m.text for m in answers)

    await eventually(transcribed, seconds=120, what="both transcripts in the Slack thread")
    say.show_new()

    say.step("Tom (teammate, Slack)", "presses 👍 Yes on Jane's card")
    await tom.click("vote_yes", message=slack.messages(REVIEW_CHANNEL)[0])
    await eventually(
        lambda: "Yes 1" in visible_text(slack.messages(REVIEW_CHANNEL)[0]), what="tally"
    )
    say.show_new()

    await _share(world, say, parent.ts)

    say.step("Rita", "/hire availability: weekdays 09:00-17:00 Berlin, 45-minute calls")
    await rita.slash("/hire", "availability", channel=REVIEW_CHANNEL)
    form = await eventually(
        lambda: next((v for v in slack.views if v.get("callback_id") == _HOURS_FORM), None),
        what="the hours form",
    )
    await rita.submit_view(form, _RITAS_HOURS)
    say.show_new()

    say.step("Rita", "/hire advance Jane Doe")
    reply = await rita.slash("/hire", "advance Jane Doe", channel=REVIEW_CHANNEL)
    say._print(_indent(f"Slack (only Rita sees this): {reply.text}"))
    await jane.wait_for_message("Good news")
    await eventually(
        lambda: "Live interview" in visible_text(slack.messages(REVIEW_CHANNEL)[0]),
        what="the card to show the new stage",
    )
    offer = await jane.wait_for_message("Next step: a live video interview")
    say.show_new()

    first = offer.buttons()[0][0]
    say.step("Jane", f"presses [{first}]")
    await jane.press(first, offer)
    await jane.wait_for_message("Your live interview is booked")
    await eventually(
        lambda: any(
            "booked the live interview" in m.text for m in slack.thread(REVIEW_CHANNEL, parent.ts)
        ),
        what="the booking in the thread",
    )
    # The invitation: one email each to Jane and to Rita (the interviewer), the .ics in
    # Jane's Telegram chat and under her card in Slack.
    await eventually(lambda: len(mail) >= 3, what="the calendar invitations in the mailbox")
    await eventually(
        lambda: any(m.kind == "document" for m in jane.inbox()), what="the .ics in Telegram"
    )
    say.show_new()
    say.step("Mailbox (local SMTP server)", "received the calendar invitations")
    _show_mail(mail[1:], verbose)

    call = world.bot.uow.run_sync(_the_booking)
    say.step("(clock)", f"skips to 59 minutes before the call at {call:%H:%M} UTC")
    clock.shift += call - clock() - timedelta(minutes=59)
    mark = len(jane.inbox())
    await world.bot.tick()
    await jane.wait_for_message("starts soon", after=mark)
    reminder = await eventually(
        lambda: next(
            (m for m in slack.direct_messages(RECRUITER) if m.text.startswith("⏰")), None
        ),
        what="the interviewer's reminder",
    )
    say.show_new()
    say._print(_indent(f"Slack DM → Rita: {reminder.text}"))

    await _relay_each_way(world, say, jane, parent.ts)

    thread = slack.thread(REVIEW_CHANNEL, parent.ts)
    if verbose:
        print("\nThe review thread as the team sees it:")
        print(_indent(visible_text(slack.messages(REVIEW_CHANNEL)[0])))
        for message in thread:
            lines = [_shown(message.text)] if message.text else []
            lines += [f"📎 {f.filename} ({len(f.data)} bytes)" for f in message.files]
            print(_indent("└ " + "\n".join(lines).replace("\n", "\n  ")))
    files = sum(len(m.files) for m in thread)
    return (
        f"{len(jane.inbox())} Telegram messages, {len(thread)} thread replies, {files} files, "
        f"{len(mail)} emails"
    )


async def _relay_each_way(world: World, say: Narrator, jane: SandboxCandidate, card: str) -> None:
    """Issue 11: Jane asks the team a question; Rita answers with a Slack voice clip."""
    slack, rita = world.slack, world.slack.teammate(RECRUITER)
    say.step("Jane", "asks: /ask Should I prepare anything for the call?")
    await jane.send_command("/ask", "Should I prepare anything for the call?")
    await jane.wait_for_message("passed your question")
    await eventually(
        lambda: any(m.text.startswith("❓") for m in slack.thread(REVIEW_CHANNEL, card)),
        what="Jane's question in the thread",
    )
    say.show_new()
    say.step("Rita", "records a voice clip in the thread and picks ⋯ → Send to candidate")
    with tempfile.TemporaryDirectory(prefix="hirebot-demo-clip-") as folder:
        clip = playable_copy(SAMPLES / "answer2.ogg", Path(folder))  # MP4/AAC, like Slack's
        assert clip is not None
        posted = await rita.post_file_in_thread(
            REVIEW_CHANNEL,
            card,
            clip.read_bytes(),
            "audio_message.mp4",
            subtype="slack_audio",
            mimetype="audio/mp4",
            text="Just bring yourself!",
        )
    await rita.use_message_shortcut(SHORTCUT, posted)
    form = await eventually(
        lambda: next((v for v in slack.views if v.get("callback_id") == RELAY_CONFIRM), None),
        what="the Send to candidate form",
    )
    preview = form["blocks"][0]["text"]["text"]
    say._print(_indent(f"Slack form (only Rita sees this): {preview} → [Send]"))
    await rita.submit_view(
        form,
        {TEXT_BLOCK: {"value": {"type": "plain_text_input", "value": "Just bring yourself!"}}},
    )
    await eventually(
        lambda: any(m.kind == "voice" for m in jane.inbox()), what="Rita's voice in Telegram"
    )
    await eventually(
        lambda: any("✅ Delivered" in m.text for m in slack.thread(REVIEW_CHANNEL, card)),
        what="the delivery in the thread",
    )
    say.show_new()


async def _share(world: World, say: Narrator, parent_ts: str) -> None:
    """Rita shares Jane with Dana, who is not in Slack: the page, read over HTTP as text, and
    Dana's vote from it in the thread."""
    say.step("Rita", "presses [🔗 Share] on Jane's card: a link for Dana Lee, not in Slack")
    address = await make_share_link(world, "Dana Lee (hiring manager)")
    say._print(_indent(f"Slack (the form, only Rita sees it): {address}"))
    say.show_new()
    say.step("Dana (a browser, outside Slack)", "opens the link")
    async with aiohttp.ClientSession() as http:
        async with http.get(address) as page:
            say._print(_indent(f"HTTP {page.status}\n{page_text(await page.text())}"))
        say.step("Dana", "picks Yes, writes a note, presses [Send to the hiring team]")
        vote = {"choice": "yes", "note": "Clear thinking about the outbox. Let's talk."}
        async with http.post(f"{address}/vote", data=vote) as answered:
            answered.raise_for_status()
    await eventually(
        lambda: any("voted *Yes*" in m.text for m in world.slack.thread(REVIEW_CHANNEL, parent_ts)),
        what="Dana's vote in the thread",
    )
    say.show_new()


def _the_booking(session: Session, _now: datetime) -> datetime:
    booking = session.exec(select(Booking)).one()
    return booking.starts_at
