"""A booked live call end to end, on a simulated clock: Jane is reminded in Telegram, the
interviewer by Slack DM with the thread's link, the thread asks whether the call happened,
a teammate who was not on it is refused, the interviewer marks it, and /hire stats counts it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from bot.flows import booking
from bot.flows.availability import Interval
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    TEAMMATE,
    SimulatedClock,
    World,
    eventually,
    visible_text,
)
from storage.models import Booking, Interview
from tests.helpers.slack import card, db, hire
from tests.helpers.stories import invite

ALEX = "U0ALEX"
MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CALL = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 14:00 UTC, 15:00 in Berlin
CALL_URL = "https://meet.example.org/hirebot-jane"


def _book(session: Session, now: datetime) -> int:
    """Jane books Wednesday 14:00 with Alex (the offer and the pick are another story's)."""
    made = booking.book(
        session,
        interview_id=session.exec(select(Interview.id)).one() or 0,
        interviewers=[ALEX],
        slot=Interval(CALL, CALL + timedelta(minutes=45)),
        now=now,
    )
    made.url = CALL_URL
    assert made.id is not None
    return made.id


async def test_a_booked_call_is_reminded_asked_about_marked_and_counted(tmp_path: Path) -> None:
    clock = SimulatedClock(MONDAY_10_UTC)
    async with World(data_dir=tmp_path, clock=clock) as w:
        w.slack.add_user(ALEX, "alex", "Alex Interviewer")
        w.slack.add_channel(
            REVIEW_CHANNEL, "backend-reviews", [w.slack.bot_user_id, RECRUITER, TEAMMATE, ALEX]
        )
        jane = w.telegram.candidate(700_610, "Jane", "Doe", language_code="de")
        await jane.send_command("/start", await invite(w))
        await jane.wait_for_message("Sind Sie einverstanden?")
        await jane.send_command("/timezone", "Europe/Berlin")
        await jane.wait_for_message("Europe/Berlin")
        parent = await card(w)
        call_id = w.bot.uow.run_sync(_book)

        clock.current = CALL - timedelta(hours=23, minutes=59)
        await w.bot.tick()
        day_before = await jane.wait_for_message("zur Erinnerung: Ihr Live-Gespräch")
        assert day_before.text == (
            "Hallo Jane, zur Erinnerung: Ihr Live-Gespräch für Backend Engineer ist am "
            "Mi., 25. Nov. 2026, 15:00 Uhr (Europe/Berlin).\n"
            f"Hier nehmen Sie am Gespräch teil: {CALL_URL}"
        )

        clock.current = CALL - timedelta(minutes=59)
        await w.bot.tick()
        await w.bot.tick()  # a second tick sends nothing twice
        soon = await jane.wait_for_message("beginnt bald")
        assert "15:00 Uhr (Europe/Berlin)" in (soon.text or "")
        dm = await eventually(lambda: next(iter(w.slack.direct_messages(ALEX)), None), what="DM")
        permalink = (
            f"https://sandbox.slack.com/archives/{REVIEW_CHANNEL}/p{parent.ts.replace('.', '')}"
        )
        assert dm.text.startswith("⏰ Your live interview with *Jane Doe* (Backend Engineer)")
        assert f"Call link: {CALL_URL}" in dm.text
        assert f"<{permalink}|Open the candidate's review thread>" in dm.text
        calls = [c for c in w.slack.calls if c.method == "chat.getPermalink"]
        assert [(c.params["channel"], c.params["message_ts"]) for c in calls] == [
            (REVIEW_CHANNEL, parent.ts)
        ]
        await w.wait_idle()
        assert len(w.slack.direct_messages(ALEX)) == 1
        assert len([m for m in jane.inbox() if "Live-Gespräch" in (m.text or "")]) == 2

        clock.current = CALL + timedelta(minutes=46)
        await w.bot.tick()
        question = await eventually(
            lambda: next(
                (m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if "Did the live" in m.text),
                None,
            ),
            what="the question in the thread",
        )
        assert [b["text"]["text"] for b in question.buttons()] == ["✅ Held", "🚫 No-show"]

        # Tom reviews the channel but was not on the call: refused, privately, nothing marked.
        tom = w.slack.teammate(TEAMMATE)
        await tom.click(f"call:no_show:{call_id}", message=question)
        refusal = await eventually(
            lambda: next(iter(w.slack.ephemerals(TEAMMATE)), None), what="Tom's refusal"
        )
        assert refusal["text"] == (
            "Only the call's interviewers or a recruiter can mark whether it happened."
        )
        assert db(w, lambda s: s.get_one(Booking, call_id).outcome) is None

        await w.slack.teammate(ALEX).click(f"call:held:{call_id}", message=question)

        def marked() -> str | None:
            now = w.slack.find_message(REVIEW_CHANNEL, question.ts)
            text = visible_text(now) if now else ""
            return text if "marked it *held*" in text else None

        assert f"✅ <@{ALEX}> marked it *held*" in await eventually(marked, what="the edit")
        stored = db(w, lambda s: s.get_one(Booking, call_id))
        assert (stored.outcome, stored.outcome_by) == ("held", ALEX)

        stats = await hire(w, RECRUITER, "stats backend-engineer")
        assert (
            "Live calls: offered 1 · booked 1 (booking rate 100%) · held 1 · no-show 0 "
            "(no-show rate 0%)"
        ) in stats
        assert "Median time from invite to live call: 2 days 4 h (calls marked held)" in stats


async def test_the_interviewer_is_reminded_without_the_link_when_the_card_was_deleted(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(MONDAY_10_UTC)
    async with World(data_dir=tmp_path, clock=clock) as w:
        w.slack.add_user(ALEX, "alex", "Alex Interviewer")
        jane = w.telegram.candidate(700_611, "Jane", "Doe")
        await jane.send_command("/start", await invite(w))
        await jane.wait_for_message("Do you agree?")
        w.slack.remove_message(await card(w))  # someone deleted the card in Slack
        w.bot.uow.run_sync(_book)
        clock.current = CALL - timedelta(minutes=30)
        await w.bot.tick()
        dm = await eventually(lambda: next(iter(w.slack.direct_messages(ALEX)), None), what="DM")
        assert dm.text.startswith("⏰ Your live interview with *Jane Doe*")
        assert dm.text.endswith(f"Call link: {CALL_URL}")  # and no link to a thread that is gone
        await jane.wait_for_message("starts soon")
