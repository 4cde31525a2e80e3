"""Offering, picking, moving and cancelling the live interview: the rules, read from the rows
and the outbox (the candidate's Telegram messages and buttons, the review thread's posts)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from bot.errors import IllegalTransition
from bot.flows import (
    bookable,
    buttons,
    interview,
    interviewer_hours,
    pipeline,
    scheduling,
    texts,
)
from bot.flows.availability import DailyHours, WeeklyHours
from bot.flows.buttons import CallChange, CallMode, PickSlot
from storage.models import Booking, BookingSeat, Candidate, InterviewerHours, Opening
from tests.helpers.flows import RECRUITER, THREAD_POST, FlowWorld
from tests.helpers.flows import Candidate as Invited
from tests.helpers.scheduling import FIRST_PAGE, LATER, NEW_YORK, NOW, SECOND_PAGE

# Friday 12 March 2027, 00:00 UTC: New York leaves EST (UTC-5) for EDT (UTC-4) on Sunday the
# 14th, so its 09:00 is 23:00 in Tokyo before the change and 22:00 after it.
LONDON = "U0LONDON"
WEEKDAYS = range(5)


def set_hours(
    world: FlowWorld,
    who: str,
    zone: str = "America/New_York",
    start: time = time(9),
    end: time = time(12),
    slot_minutes: int = 60,
    max_per_day: int = 4,
) -> None:
    hours = WeeklyHours(
        time_zone=zone,
        days=tuple(DailyHours(day, start, end) for day in WEEKDAYS),
        slot_minutes=slot_minutes,
        max_per_day=max_per_day,
    )

    def store(session: Session, now: datetime) -> None:
        row = session.get(InterviewerHours, who) or InterviewerHours(
            interviewer=who, time_zone=zone, updated_at=now
        )
        interviewer_hours.store_hours(row, hours, now)
        session.add(row)

    world.run(store)


def name_interviewers(world: FlowWorld, *who: str, panel: bool = False, url: str = "") -> None:
    def change(session: Session, _now: datetime) -> None:
        opening = session.exec(select(Opening)).one()
        opening.interviewers, opening.panel = list(who), panel
        opening.meeting_url = url or None

    world.run(change)


@pytest.fixture
def ready(world: FlowWorld) -> FlowWorld:
    """An opening with one interviewer in New York (09:00-12:00, one-hour calls), at NOW."""
    world.now = NOW - timedelta(days=3)
    world.opening()
    name_interviewers(world, NEW_YORK, url="https://meet.example/acme")
    set_hours(world, NEW_YORK)
    return world


def advanced(world: FlowWorld, name: str = "Jane Doe", zone: str = "Asia/Tokyo") -> Invited:
    """Invited, answered both questions, then advanced to the live interview at NOW."""
    who = world.invite(name)
    world.agree(who)
    world.answer(who)
    world.answer(who)

    def set_zone(session: Session, _now: datetime) -> None:
        candidate = session.exec(
            select(Candidate).where(Candidate.telegram_user_id == who.person.user_id)
        ).one()
        candidate.timezone = zone

    world.run(set_zone)
    world.now = NOW
    world.run(
        lambda s, now: pipeline.advance(
            s, who=f"#{who.interview_id}", by=RECRUITER, now=now, stage="Live interview"
        )
    )
    return who


def last(world: FlowWorld, who: Invited) -> dict[str, Any]:
    return world.to_candidate(who)[-1]


def labels(message: dict[str, Any]) -> list[str]:
    return [choice["label"] for row in message.get("choices") or [] for choice in row]


def data_of(message: dict[str, Any], label: str) -> str:
    for row in message.get("choices") or []:
        for choice in row:
            if choice["label"] == label:
                return str(choice["data"])
    raise AssertionError(f"no {label!r} in {labels(message)}")


def press(world: FlowWorld, who: Invited, data: str) -> None:
    world.run(lambda s, now: interview.press(s, person=who.person, data=data, now=now))


def bookings(world: FlowWorld) -> list[Booking]:
    return world.read(lambda s: list(s.exec(select(Booking).order_by(col(Booking.id))).all()))


def live_seats(world: FlowWorld) -> list[tuple[str, datetime]]:
    def read(session: Session) -> list[tuple[str, datetime]]:
        seats = session.exec(select(BookingSeat).where(col(BookingSeat.live).is_(True))).all()
        return sorted((s.interviewer, s.starts_at.replace(tzinfo=UTC)) for s in seats)

    return world.read(read)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_offer_shows_tokyo_wall_clock_times_on_both_sides_of_new_yorks_dst_change(
    ready: FlowWorld,
) -> None:
    jane = advanced(ready)
    offer = last(ready, jane)
    assert offer["text"].startswith("Next step: a live video interview for Backend Engineer.")
    assert "Times are in Asia/Tokyo" in offer["text"]
    assert labels(offer) == [*FIRST_PAGE, LATER]
    # Every slot button fits Telegram's 64 bytes and names its interview.
    for label in FIRST_PAGE:
        pick = PickSlot.unpack(data_of(offer, label))
        assert (pick.mode, pick.interview_id) == (CallMode.BOOK, jane.interview_id)
        assert len(data_of(offer, label).encode()) <= 64
    assert ready.interview(jane.interview_id).slots_offered_at == NOW

    press(ready, jane, data_of(offer, LATER))
    assert labels(last(ready, jane)) == [*SECOND_PAGE, LATER]

    # Pick the first time after the change: 22:00 Monday in Tokyo is 09:00 EDT, 13:00 UTC.
    mark = ready.mark()
    press(ready, jane, data_of(offer, "Mon 15 Mar 2027, 22:00"))
    (booked,) = bookings(ready)
    assert (booked.starts_at, booked.ends_at) == (
        utc("2027-03-15T13:00"),
        utc("2027-03-15T14:00"),
    )
    assert (booked.url, booked.changed_by, booked.sequence) == (
        "https://meet.example/acme",
        "candidate",
        0,
    )
    assert live_seats(ready) == [(NEW_YORK, utc("2027-03-15T13:00"))]
    confirmed = last(ready, jane)
    assert confirmed["text"] == (
        "Your live interview is booked: Mon 15 Mar 2027, 22:00 Asia/Tokyo.\n"
        "Join here: https://meet.example/acme"
    )  # no calendar invitation is promised: nobody on the call has an email address
    assert labels(confirmed) == ["Reschedule", "Cancel"]
    # (The other post: no calendar invitation went out, nobody on the call has an address.)
    (post,) = [r.payload for r in ready.since(mark, THREAD_POST) if "booked" in r.payload["text"]]
    assert post["text"] == (
        "📅 The candidate booked the live interview: *Mon 15 Mar 2027, 13:00 UTC–14:00 UTC* "
        f"with <@{NEW_YORK}>.\nCall link: https://meet.example/acme"
    )
    assert [c["label"] for c in post["choices"]] == ["🔁 Reschedule", "❌ Cancel call"]
    assert buttons.TeamCallChange.unpack(post["choices"][1]["data"]) == buttons.TeamCallChange(
        CallChange.CANCEL, booked.id or 0
    )


def test_any_one_interviewer_each_slot_goes_to_the_least_booked_that_week(
    ready: FlowWorld,
) -> None:
    # London works 14:00-17:00 London time: the same instants as New York's 09:00-12:00
    # before the US change (14:00-17:00 UTC), so both are free at each of those starts.
    set_hours(ready, LONDON, zone="Europe/London", start=time(14), end=time(17))
    name_interviewers(ready, NEW_YORK, LONDON)
    jane = advanced(ready)
    press(ready, jane, data_of(last(ready, jane), "Fri 12 Mar 2027, 23:00"))
    john = advanced(ready, "John Roe")
    # New York has a call this week now, London none: John's same-week slot goes to London.
    press(ready, john, data_of(last(ready, john), "Sat 13 Mar 2027, 00:00"))
    assert live_seats(ready) == [
        (LONDON, utc("2027-03-12T15:00")),
        (NEW_YORK, utc("2027-03-12T14:00")),
    ]


def test_an_interviewer_without_hours_is_named_to_the_recruiter_and_no_empty_offer_is_sent(
    ready: FlowWorld,
) -> None:
    name_interviewers(ready, NEW_YORK, LONDON, panel=True)
    jane = advanced(ready)
    assert not any("Next step" in t for t in ready.texts_to(jane))
    assert ready.texts_to(jane)[-1].startswith("Good news, Jane!")  # 'advanced' only
    assert any(
        f"No times can be offered with <@{LONDON}> yet. Ask <@{LONDON}> to set their "
        "interview hours with `/hire availability`." in n
        for n in ready.thread_notes()
    )
    assert ready.interview(jane.interview_id).slots_offered_at is None
    # Once London sets hours, `/hire book` offers the panel's times.
    set_hours(ready, LONDON, zone="Europe/London", start=time(14), end=time(17))
    line = ready.run(lambda s, now: pipeline.book_call(s, who="Jane Doe", now=now))
    assert line == "Jane Doe was offered times for the live interview on Telegram."
    assert labels(last(ready, jane))[:3] == FIRST_PAGE[:3]  # both free only before the change


def test_no_free_slots_tells_the_candidate_the_team_will_be_in_touch(ready: FlowWorld) -> None:
    set_hours(ready, NEW_YORK)

    def days_off(session: Session, _now: datetime) -> None:
        row = session.get_one(InterviewerHours, NEW_YORK)
        start = NOW.date()
        row.days_off = [(start + timedelta(days=d)).isoformat() for d in range(40)]

    ready.run(days_off)
    jane = advanced(ready)
    assert ready.texts_to(jane)[-1].startswith("There are no free times to book right now.")
    assert any("No free interview slots in the next 28 days" in n for n in ready.thread_notes())


def test_a_second_booking_a_past_pick_and_forged_picks_change_nothing(ready: FlowWorld) -> None:
    jane = advanced(ready)
    john = advanced(ready, "John Roe")
    offer = last(ready, jane)
    press(ready, jane, data_of(offer, FIRST_PAGE[0]))
    # The same offer pressed again: a clear answer, no second booking.
    press(ready, jane, data_of(offer, FIRST_PAGE[1]))
    assert last(ready, jane)["text"].startswith(
        "You already have a call booked: Fri 12 Mar 2027, 23:00 Asia/Tokyo."
    )
    # John presses Jane's button (forged: her interview id): refused, nothing booked for him.
    press(ready, john, data_of(offer, FIRST_PAGE[2]))
    assert "does not belong to your interview" in last(ready, john)["text"]
    # A time that is no slot at all (a forged minute), and garbage data.
    off_grid = int((NOW + timedelta(days=3, minutes=7)).timestamp()) // 60
    forged = PickSlot(CallMode.BOOK, off_grid, john.interview_id).pack()
    press(ready, john, forged)
    assert last(ready, john)["text"].startswith("Sorry, that time was just taken.")
    press(ready, john, f"slot:b:99999999999999999@{john.interview_id}")
    assert "earlier step" in last(ready, john)["text"]
    # A time in the past.
    past = PickSlot(CallMode.BOOK, int(NOW.timestamp()) // 60 - 60, john.interview_id).pack()
    press(ready, john, past)
    assert last(ready, john)["text"].startswith("That time has passed.")
    assert [b.interview_id for b in bookings(ready)] == [jane.interview_id]


def test_a_slot_taken_meanwhile_gets_an_apology_and_the_next_free_times(ready: FlowWorld) -> None:
    jane, john = advanced(ready), advanced(ready, "John Roe")
    press(ready, jane, data_of(last(ready, jane), FIRST_PAGE[1]))
    press(ready, john, data_of(last(ready, john), FIRST_PAGE[1]))
    apology = last(ready, john)
    assert apology["text"] == (
        "Sorry, that time was just taken. Here are the next free times, in Asia/Tokyo:"
    )
    assert labels(apology) == [*FIRST_PAGE[2:], *SECOND_PAGE[:2], LATER]
    assert len(bookings(ready)) == 1


def _book_first(world: FlowWorld, who: Invited) -> Booking:
    press(world, who, data_of(last(world, who), FIRST_PAGE[3]))  # Mon 13:00 UTC
    return bookings(world)[-1]


def test_the_candidate_reschedules_before_the_cutoff_and_the_invitation_keeps_its_uid(
    ready: FlowWorld,
) -> None:
    jane = advanced(ready)
    booked = _book_first(ready, jane)
    press(ready, jane, data_of(last(ready, jane), "Reschedule"))
    offer = last(ready, jane)
    assert offer["text"].startswith("Your call is on Mon 15 Mar 2027, 22:00 Asia/Tokyo.")
    # Its own hour is not offered again.
    assert "Mon 15 Mar 2027, 22:00" not in labels(offer)
    mark = ready.mark()
    press(ready, jane, data_of(offer, "Tue 16 Mar 2027, 00:00"))
    (moved,) = bookings(ready)
    assert (moved.uid, moved.sequence, moved.starts_at) == (
        booked.uid,
        1,
        utc("2027-03-15T15:00"),
    )
    assert live_seats(ready) == [(NEW_YORK, utc("2027-03-15T15:00"))]
    assert last(ready, jane)["text"].startswith(
        "Your live interview has moved to Tue 16 Mar 2027, 00:00 Asia/Tokyo."
    )
    notes = [r.payload["text"] for r in ready.since(mark, THREAD_POST)]
    assert notes == [
        "🔁 The candidate moved the live interview from Mon 15 Mar 2027, 13:00 UTC: "
        f"*Mon 15 Mar 2027, 15:00 UTC–16:00 UTC* with <@{NEW_YORK}>."
        "\nCall link: https://meet.example/acme"
    ]


def test_a_move_within_a_full_day_is_offered_the_call_leaves_its_own_place(
    ready: FlowWorld,
) -> None:
    set_hours(ready, NEW_YORK, max_per_day=1)
    jane, john = advanced(ready), advanced(ready, "John Roe")
    _book_first(ready, jane)  # Monday's one call: 13:00 UTC
    # Monday is full for anyone else...
    assert not any(label.startswith("Mon 15") for label in labels(_fresh_offer(ready, john)))
    # ...but Jane may move within it: her own call does not count against the day.
    press(ready, jane, data_of(last(ready, jane), "Reschedule"))
    assert "Mon 15 Mar 2027, 23:00" in labels(last(ready, jane))
    press(ready, jane, data_of(last(ready, jane), "Mon 15 Mar 2027, 23:00"))
    assert [(b.sequence, b.starts_at) for b in bookings(ready)] == [(1, utc("2027-03-15T14:00"))]


def test_after_the_cutoff_the_candidate_is_sent_to_the_team(ready: FlowWorld) -> None:
    jane = advanced(ready)
    _book_first(ready, jane)
    confirmation = last(ready, jane)
    ready.now = utc("2027-03-15T01:00")  # 12 h before the 13:00 call
    for label in ("Reschedule", "Cancel"):
        press(ready, jane, data_of(confirmation, label))
        assert last(ready, jane)["text"] == (
            "Your call is on Mon 15 Mar 2027, 22:00 Asia/Tokyo: it is too late to change it "
            "here. Please reply to the team, who will sort it out with you."
        )
    assert bookings(ready)[0].status == "booked"


def test_the_candidate_cancels_and_the_time_is_offered_again(ready: FlowWorld) -> None:
    jane, john = advanced(ready), advanced(ready, "John Roe")
    _book_first(ready, jane)
    assert FIRST_PAGE[3] not in labels(_fresh_offer(ready, john))
    press(ready, jane, data_of(last(ready, jane), "Cancel"))
    assert last(ready, jane)["text"].startswith(
        "Your live interview on Mon 15 Mar 2027, 22:00 Asia/Tokyo is cancelled."
    )
    assert (bookings(ready)[0].status, live_seats(ready)) == ("cancelled", [])
    assert any("The candidate cancelled the live interview" in n for n in ready.thread_notes())
    assert FIRST_PAGE[3] in labels(_fresh_offer(ready, john))
    # "Pick a time" offers Jane the times again, and she can book anew.
    press(ready, jane, data_of(last(ready, jane), "Pick a time"))
    press(ready, jane, data_of(last(ready, jane), FIRST_PAGE[0]))
    assert [b.status for b in bookings(ready)] == ["cancelled", "booked"]


def _fresh_offer(world: FlowWorld, who: Invited) -> dict[str, Any]:
    data = buttons.MoreSlots(CallMode.BOOK, 0, who.interview_id).pack()
    press(world, who, data)
    return last(world, who)


def test_a_recruiter_cancels_or_asks_to_move_from_the_thread(ready: FlowWorld) -> None:
    jane = advanced(ready)
    booked = _book_first(ready, jane)
    assert booked.id is not None
    ready.now = utc("2027-03-15T06:00")  # past the candidate's cut-off

    def change(kind: CallChange) -> str:
        return ready.run(
            lambda s, now: scheduling.team_change(
                s, booking_id=booked.id or 0, change=kind, by=RECRUITER, now=now
            )
        )

    line = change(CallChange.RESCHEDULE)
    assert line == "The candidate was offered new times; the call stands until they pick one."
    offer = last(ready, jane)
    assert offer["text"].startswith(
        "The team asked to move your live interview on Mon 15 Mar 2027, 22:00 Asia/Tokyo."
    )
    # The team asked, so the move goes through past the cut-off.
    press(ready, jane, data_of(offer, labels(offer)[0]))
    assert bookings(ready)[0].sequence == 1
    assert bookings(ready)[0].changed_by == "candidate"
    assert change(CallChange.CANCEL) == "Cancelled; the candidate was told."
    assert last(ready, jane)["text"].startswith("The team had to cancel your live interview on")
    assert (bookings(ready)[0].status, bookings(ready)[0].changed_by) == ("cancelled", RECRUITER)
    with pytest.raises(IllegalTransition, match="cancelled already"):
        change(CallChange.CANCEL)


def test_rejecting_a_candidate_cancels_their_call_ahead_and_old_buttons_change_nothing(
    ready: FlowWorld,
) -> None:
    jane = advanced(ready)
    booked = _book_first(ready, jane)
    confirmation = last(ready, jane)
    ready.run(lambda s, now: pipeline.reject(s, who="Jane Doe", by=RECRUITER, now=now, reason=""))
    assert (bookings(ready)[0].status, bookings(ready)[0].changed_by) == ("cancelled", RECRUITER)
    assert live_seats(ready) == []
    assert any("was cancelled with the rejection" in n for n in ready.thread_notes())
    assert booked.uid == bookings(ready)[0].uid
    # Her old buttons now only say booking is closed.
    press(ready, jane, data_of(confirmation, "Reschedule"))
    assert last(ready, jane)["text"] == "Booking a call is not open for this interview any more."
    assert bookings(ready)[0].status == "cancelled"


def test_paging_walks_every_free_time_of_the_four_weeks_once_in_order(ready: FlowWorld) -> None:
    jane = advanced(ready)
    every = ready.read(lambda s: bookable.open_slots(s, s.exec(select(Opening)).one(), NOW).slots)
    seen: list[str] = []
    page = last(ready, jane)
    while True:
        seen.extend(label for label in labels(page) if label != LATER)
        if LATER not in labels(page):
            break
        press(ready, jane, data_of(page, LATER))
        page = last(ready, jane)
    # 12 March to 8 April: 20 weekdays of three one-hour calls; pages of five, 12 of them.
    assert len(every) == 60
    assert seen == [texts.slot("en", slot.start, ZoneInfo("Asia/Tokyo")) for slot in every]


def test_a_german_candidate_reads_the_offer_and_its_dates_in_german(ready: FlowWorld) -> None:
    jane = advanced(ready)
    press(ready, jane, buttons.Language("de", jane.interview_id).pack())
    offer = _fresh_offer(ready, jane)
    assert offer["text"] == "Weitere Termine für Ihr Live-Interview, in Asia/Tokyo:"
    assert labels(offer) == [
        "Fr., 12. März 2027, 23:00",
        "Sa., 13. März 2027, 00:00",
        "Sa., 13. März 2027, 01:00",
        "Mo., 15. März 2027, 22:00",
        "Mo., 15. März 2027, 23:00",
        "Spätere Termine ➡️",
    ]
    press(ready, jane, data_of(offer, "Fr., 12. März 2027, 23:00"))
    assert last(ready, jane)["text"].startswith(
        "Ihr Live-Interview ist gebucht: Fr., 12. März 2027, 23:00 Uhr (Asia/Tokyo)."
    )
    assert labels(last(ready, jane)) == ["Verschieben", "Absagen"]


def test_status_shows_the_call_ahead_with_its_buttons_until_the_cutoff(ready: FlowWorld) -> None:
    jane = advanced(ready)

    def status() -> dict[str, Any]:
        ready.run(
            lambda s, now: interview.command(
                s, person=jane.person, name="status", argument="", now=now
            )
        )
        return last(ready, jane)

    booked = _book_first(ready, jane)
    shown = status()
    assert shown["text"] == (
        f"Your live interview: Mon 15 Mar 2027, 22:00 Asia/Tokyo.\nJoin here: {booked.url}"
    )
    assert labels(shown) == ["Reschedule", "Cancel"]
    ready.now = utc("2027-03-15T01:00")  # past the cut-off: shown, not changeable here
    shown = status()
    assert shown["text"].startswith("Your live interview: Mon 15 Mar 2027, 22:00")
    assert labels(shown) == []
    ready.now = utc("2027-03-15T13:30")  # the call has started: /status says nothing of it
    assert not status()["text"].startswith("Your live interview")


def test_the_confirmation_promises_a_calendar_invitation_when_one_goes_out(
    ready: FlowWorld,
) -> None:
    def with_email(session: Session, _now: datetime) -> None:
        row = session.get_one(InterviewerHours, NEW_YORK)
        row.email = "ny@acme.example"

    ready.run(with_email)
    jane = advanced(ready)
    _book_first(ready, jane)
    confirmations = [
        m for m in ready.to_candidate(jane) if m["text"].startswith("Your live interview is")
    ]
    assert confirmations[-1]["text"].endswith("\nYou will also get a calendar invitation.")
