"""The live interview booked in Telegram, end to end: real PTB and Bolt against the emulators.

A candidate in Tokyo, an interviewer in New York (09:00-12:00, one-hour calls), two days
before New York's clocks go forward: the candidate sees Tokyo wall-clock times that move by
an hour across the change, pages on, picks, and both sides are told; the recruiter (and only
the recruiter) can cancel from the thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path

from sqlmodel import Session, select

from bot.flows import interviewer_hours
from bot.flows.availability import DailyHours, WeeklyHours
from bot.flows.buttons import CallMode, PickSlot
from bot.sandbox.telegram import SandboxCandidate
from bot.sandbox.world import (
    RECRUITER,
    REVIEW_CHANNEL,
    TEAMMATE,
    SimulatedClock,
    World,
    eventually,
)
from bot.slack.listeners.actions import CALL_REFUSAL
from storage.models import Booking, BookingSeat, InterviewerHours, Opening
from tests.helpers.scheduling import FIRST_PAGE, LATER, NEW_YORK, NOW, SECOND_PAGE
from tests.helpers.slack import card, db
from tests.helpers.stories import invite, start_answering


def _interviewer_in_new_york(session: Session) -> None:
    session.exec(select(Opening)).one().interviewers = [NEW_YORK]
    hours = WeeklyHours(
        "America/New_York", tuple(DailyHours(d, time(9), time(12)) for d in range(5)), 60
    )
    row = InterviewerHours(interviewer=NEW_YORK, time_zone=hours.time_zone, updated_at=NOW)
    interviewer_hours.store_hours(row, hours, NOW)
    session.add(row)


async def _offered(w: World, telegram_id: int, name: str) -> SandboxCandidate:
    """Invited, opened the link, agreed, set Tokyo time, advanced: the offer is waiting."""
    jane = w.telegram.candidate(telegram_id, name.split()[0], name.split()[1])
    await start_answering(w, jane, await invite(w, name))
    await jane.send_command("/timezone", "Asia/Tokyo")
    await jane.wait_for_message("Time zone set to Asia/Tokyo")
    reply = await w.slack.teammate(RECRUITER).slash(
        "/hire", f"advance {name} to Live interview", REVIEW_CHANNEL
    )
    assert "was offered times for the live interview on Telegram" in (reply.text or "")
    return jane


def _labels(buttons: list[tuple[str, str]]) -> list[str]:
    return [label for label, _ in buttons]


async def test_tokyo_candidate_books_new_york_interviewer_across_dst_and_both_sides_hear(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path, clock=SimulatedClock(NOW)) as w:
        db(w, _interviewer_in_new_york)
        jane = await _offered(w, 700_301, "Jane Doe")
        offer = await jane.wait_for_message("Next step: a live video interview")
        assert "Times are in Asia/Tokyo" in (offer.text or "")
        assert _labels(offer.buttons()) == [*FIRST_PAGE, LATER]

        await jane.press(LATER, offer)
        more = await jane.wait_for_message("More times for your live interview, in Asia/Tokyo")
        assert _labels(more.buttons()) == [*SECOND_PAGE, LATER]

        # 22:00 Monday in Tokyo: 09:00 in New York after the change, 13:00 UTC.
        await jane.press("Mon 15 Mar 2027, 22:00", offer)
        confirmed = await jane.wait_for_message("Your live interview is booked")
        assert confirmed.text == (
            "Your live interview is booked: Mon 15 Mar 2027, 22:00 Asia/Tokyo.\n"
            f"Join here: {db(w, lambda s: s.exec(select(Booking)).one()).url}"
        )  # no calendar invitation promised: nobody on this call has an email address
        assert _labels(confirmed.buttons()) == ["Reschedule", "Cancel"]
        stored = db(w, lambda s: s.exec(select(Booking)).one())
        assert stored.starts_at.replace(tzinfo=UTC) == datetime(2027, 3, 15, 13, tzinfo=UTC)
        assert stored.url.startswith("https://meet.jit.si/hirebot-")
        assert db(w, lambda s: s.exec(select(BookingSeat)).one()).interviewer == NEW_YORK

        parent = await card(w)
        post = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if m.buttons()],
            what="the booking in the thread",
        )
        assert post[0].text.startswith(
            "📅 The candidate booked the live interview: "
            f"*Mon 15 Mar 2027, 13:00 UTC–14:00 UTC* with <@{NEW_YORK}>."
        )
        reschedule, cancel = (b["action_id"] for b in post[0].buttons())
        assert (reschedule, cancel) == (
            f"booking:reschedule:{stored.id}",
            f"booking:cancel:{stored.id}",
        )

        # A teammate who is not a recruiter cannot cancel it.
        await w.slack.teammate(TEAMMATE).click(cancel, message=post[0])
        refusal = await eventually(lambda: w.slack.ephemerals(TEAMMATE))
        assert refusal[-1]["text"] == CALL_REFUSAL
        assert db(w, lambda s: s.exec(select(Booking)).one()).status == "booked"

        # The recruiter can; the candidate hears, the post loses its buttons, the time frees.
        await w.slack.teammate(RECRUITER).click(cancel, message=post[0])
        await jane.wait_for_message("The team had to cancel your live interview on Mon 15 Mar")
        await eventually(
            lambda: any(
                "cancelled the live interview" in m.text
                for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)
            ),
            what="the cancellation in the thread",
        )
        await eventually(
            lambda: not any(m.buttons() for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)),
            what="the booking post without buttons",
        )
        assert db(w, lambda s: s.exec(select(Booking)).one()).status == "cancelled"


async def test_reschedule_in_telegram_and_a_forged_pick_for_someone_else(tmp_path: Path) -> None:
    async with World(data_dir=tmp_path, clock=SimulatedClock(NOW)) as w:
        db(w, _interviewer_in_new_york)
        jane = await _offered(w, 700_311, "Jane Doe")
        offer = await jane.wait_for_message("Next step: a live video interview")
        await jane.press(FIRST_PAGE[0], offer)
        confirmed = await jane.wait_for_message("Your live interview is booked")
        first = db(w, lambda s: s.exec(select(Booking)).one())

        # John presses a slot button forged with Jane's interview: refused, nothing changes.
        john = await _offered(w, 700_312, "John Roe")
        his = await john.wait_for_message("Next step: a live video interview")
        forged = PickSlot(
            CallMode.BOOK,
            int(datetime(2027, 3, 12, 15, tzinfo=UTC).timestamp()) // 60,
            first.interview_id,
        )
        await john.press_forged(forged.pack(), his)
        await john.wait_for_message("does not belong to your interview")

        await jane.press("Reschedule", confirmed)
        choose = await jane.wait_for_message("Pick a new time below")
        assert FIRST_PAGE[0] not in _labels(choose.buttons())
        await jane.press(FIRST_PAGE[3], choose)
        await jane.wait_for_message("Your live interview has moved to Mon 15 Mar 2027, 22:00")
        moved = db(w, lambda s: s.exec(select(Booking)).all())
        assert [(b.uid, b.sequence) for b in moved] == [(first.uid, 1)]
        assert moved[0].starts_at.replace(tzinfo=UTC) == datetime(2027, 3, 15, 13, tzinfo=UTC)


async def test_no_hours_tells_the_recruiter_and_the_cards_book_a_call_offers_once_set(
    tmp_path: Path,
) -> None:
    async with World(data_dir=tmp_path, clock=SimulatedClock(NOW)) as w:

        def name_only(session: Session) -> None:
            session.exec(select(Opening)).one().interviewers = [NEW_YORK]

        db(w, name_only)
        jane = w.telegram.candidate(700_321, "Jane", "Doe")
        await start_answering(w, jane, await invite(w))
        reply = await w.slack.teammate(RECRUITER).slash(
            "/hire", "advance Jane Doe to Live interview", REVIEW_CHANNEL
        )
        assert "No times offered to Jane Doe: interviewers must set their hours first." in (
            reply.text or ""
        )
        parent = await card(w)
        await eventually(
            lambda: any(
                f"Ask <@{NEW_YORK}> to set their interview hours with `/hire availability`."
                in m.text
                for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)
            ),
            what="the note naming the interviewer",
        )
        await jane.wait_for_message("Good news, Jane!")
        assert not any("Next step" in (m.text or "") for m in jane.inbox())

        db(w, _interviewer_in_new_york)
        live_card = await eventually(
            lambda: next(
                (m for m in [w.slack.messages(REVIEW_CHANNEL)[0]] if "book_call" in str(m.blocks)),
                None,
            ),
            what="the card's Book a call button",
        )
        await w.slack.teammate(TEAMMATE).click("book_call", message=live_card)
        refusal = await eventually(lambda: w.slack.ephemerals(TEAMMATE))
        assert refusal[-1]["text"] == CALL_REFUSAL
        await w.slack.teammate(RECRUITER).click("book_call", message=live_card)
        offer = await jane.wait_for_message("Next step: a live video interview")
        assert len(offer.buttons()) == 6
        told = await eventually(lambda: w.slack.ephemerals(RECRUITER))
        assert told[-1]["text"] == "Jane Doe was offered times for the live interview on Telegram."


async def test_two_candidates_pressing_one_slot_at_once_through_telegram_get_one_call(
    tmp_path: Path, database_url: str
) -> None:
    async with World(data_dir=tmp_path, clock=SimulatedClock(NOW), database_url=database_url) as w:
        db(w, _interviewer_in_new_york)
        jane = await _offered(w, 700_331, "Jane Doe")
        john = await _offered(w, 700_332, "John Roe")
        offers = [
            await who.wait_for_message("Next step: a live video interview") for who in (jane, john)
        ]
        await asyncio.gather(
            jane.press(FIRST_PAGE[0], offers[0]), john.press(FIRST_PAGE[0], offers[1])
        )
        answers = ("Your live interview is booked", "Sorry, that time was just taken")

        def answer(who: SandboxCandidate) -> Callable[[], str | None]:
            return lambda: next(
                (m.text for m in who.inbox() if m.text and m.text.startswith(answers)), None
            )

        got = [await eventually(answer(who), what="the answer") for who in (jane, john)]
        assert sorted(text.split(":")[0].split(".")[0] for text in got) == [
            "Sorry, that time was just taken",
            "Your live interview is booked",
        ]
        assert len(db(w, lambda s: s.exec(select(BookingSeat)).all())) == 1


async def test_a_recruiter_asks_to_move_the_call_from_the_thread_and_the_candidate_picks(
    tmp_path: Path,
) -> None:
    clock = SimulatedClock(NOW)
    async with World(data_dir=tmp_path, clock=clock) as w:
        db(w, _interviewer_in_new_york)
        jane = await _offered(w, 700_341, "Jane Doe")
        offer = await jane.wait_for_message("Next step: a live video interview")
        await jane.press(FIRST_PAGE[3], offer)  # Monday 13:00 UTC
        await jane.wait_for_message("Your live interview is booked")
        parent = await card(w)
        post = await eventually(
            lambda: [m for m in w.slack.thread(REVIEW_CHANNEL, parent.ts) if m.buttons()],
            what="the booking in the thread",
        )
        first = db(w, lambda s: s.exec(select(Booking)).one())

        # Past the candidate's cut-off (12 h before), the recruiter may still ask to move it.
        clock.advance(days=3, hours=6)  # Monday 06:00 UTC
        await w.slack.teammate(RECRUITER).click(f"booking:reschedule:{first.id}", message=post[0])
        asked = await jane.wait_for_message("The team asked to move your live interview")
        told = await eventually(lambda: w.slack.ephemerals(RECRUITER))
        assert told[-1]["text"] == (
            "The candidate was offered new times; the call stands until they pick one."
        )
        await jane.press(_labels(asked.buttons())[0], asked)
        await jane.wait_for_message("Your live interview has moved to")
        moved = db(w, lambda s: s.exec(select(Booking)).one())
        assert (moved.uid, moved.sequence, moved.changed_by) == (first.uid, 1, "candidate")
        assert moved.starts_at > first.starts_at
        await eventually(
            lambda: any(
                "The candidate moved the live interview from Mon 15 Mar 2027, 13:00 UTC" in m.text
                for m in w.slack.thread(REVIEW_CHANNEL, parent.ts)
            ),
            what="the move in the thread",
        )
