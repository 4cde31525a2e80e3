"""Booking the live interview in Telegram: the slots offered, a pick, a reschedule, a cancel
(issue 10).

The candidate is offered a page of slots as buttons, in their time zone and language, and
books one with a press; the team sees every change in the candidate's review thread, with
Reschedule / Cancel buttons for recruiters. Slots are computed afresh on every press from
the opening's interviewers (``bot.flows.bookable``). Paging is by instant
(``availability.page_after``), so a slot taken meanwhile shifts nothing the candidate sees.

The database has the last word on a race (``booking.SlotTaken``): the loser hears an apology
and the next free slots. Every change is made inside a savepoint, so a refused booking or
move leaves the old one exactly as it was while the apology still commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from bot.errors import IllegalTransition, NotFound
from bot.flows import (
    booking,
    escaping,
    interviewer_setup,
    invitations,
    review,
    texts,
    threads,
)
from bot.flows.availability import Interval, page_after
from bot.flows.bookable import Slot, Slots, open_slots, slots_after
from bot.flows.buttons import (
    CallButton,
    CallChange,
    CallMode,
    ChangeCall,
    MoreSlots,
    PickSlot,
    TeamCallChange,
)
from bot.flows.conversation import Conversation, of_interview
from bot.flows.meeting import meeting_link
from bot.flows.moments import format_deadline
from bot.flows.ports import Choice
from bot.limits import SchedulingLimit
from storage.models import (
    Booking,
    BookingSeat,
    Candidate,
    Interview,
    InterviewStatus,
    Opening,
    Stage,
)

# Booking.changed_by when the candidate made the change (else a recruiter's Slack id).
CANDIDATE = "candidate"
# Epoch minutes a slot button may carry: anything outside is not one of ours (and would not
# fit a datetime either).
_LAST_MINUTE = 10**8  # the year 2160


# ------------------------------------------------------------------ offering


def _mentions(people: Sequence[str]) -> str:
    return ", ".join(f"<@{who}>" for who in people)


def books_calls(session: Session, interview: Interview) -> bool:
    """Whether hirebot books this interview's live call: its opening names interviewers."""
    return bool(session.get_one(Opening, interview.opening_id).interviewers)


def offer(session: Session, interview: Interview, now: datetime) -> str:
    """Offer the candidate the first page of slots (they advanced to the live interview, or
    a recruiter asked). Returns a line for the recruiter; the thread hears what they must do
    when nothing can be offered."""
    candidate = session.get_one(Candidate, interview.candidate_id)
    opening = session.get_one(Opening, interview.opening_id)
    assert interview.id is not None
    name = escaping.mrkdwn(candidate.name)
    if candidate.telegram_chat_id is None:
        return (
            f"{name} never opened their invitation, so Telegram can't offer them times yet: "
            "once they have, offer them with the card's 📅 Book a call (or `/hire book`)."
        )
    live = booking.live_booking(session, interview.id)
    if live is not None:
        return (
            f"{name} already has a call booked for {format_deadline(live.starts_at)}: "
            "reschedule or cancel it in their thread."
        )
    if not opening.interviewers:
        note = (
            f"⚠️ *{escaping.mrkdwn(opening.title)}* names no interviewers, so no times can be "
            "offered: add `interviewers:` to the opening's file and import it again."
        )
        review.note_in_thread(session, interview, note, now)
        return note
    found = slots_after(session, opening, now, None)
    if found.no_hours:
        review.note_in_thread(
            session,
            interview,
            f"⚠️ No times can be offered with {_mentions(found.no_hours)} yet. "
            f"{interviewer_setup.ask_to_set_hours(found.no_hours)} Then offer times again "
            "with the card's 📅 Book a call (or `/hire book`).",
            now,
        )
    conv = of_interview(session, interview, now)
    if not found.slots:
        if found.no_hours and (opening.panel or set(found.no_hours) >= set(opening.interviewers)):
            # Nothing to offer until hours are set: the candidate is not sent an empty offer.
            return f"No times offered to {name}: interviewers must set their hours first."
        conv.say("slots.none")
        review.note_in_thread(
            session,
            interview,
            f"📭 No free interview slots in the next {int(SchedulingLimit.OFFER_DAYS)} days: "
            "the candidate was told the team will be in touch.",
            now,
        )
        return f"No free slots to offer {name}: the thread says what to do."
    interview.slots_offered_at = interview.slots_offered_at or now
    _show(conv, found, CallMode.BOOK, None, "slots.offer")
    return f"{name} was offered times for the live interview on Telegram."


def _show(
    conv: Conversation,
    found: Slots,
    mode: CallMode,
    after: datetime | None,
    key: str,
    **values: object,
) -> None:
    """One page of slot buttons, earliest first, and "Later dates" when there are more."""
    page = page_after([s.interval for s in found.slots], after)
    zone = conv.timezone()
    rows = [
        [
            conv.choice(
                texts.slot(conv.language, s.start, zone),
                PickSlot(mode, _minute(s.start), conv.interview_id),
            )
        ]
        for s in page.slots
    ]
    if page.more_after is not None:
        later = MoreSlots(mode, _minute(page.more_after), conv.interview_id)
        rows.append([conv.choice(conv.text("slots.later"), later)])
    conv.say(key, rows, zone=zone.key, opening=conv.opening.title, **values)


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def _instant(minute: int) -> datetime | None:
    if not 0 < minute < _LAST_MINUTE:
        return None
    return datetime.fromtimestamp(minute * 60, UTC)


# ------------------------------------------------------------------ the candidate's presses


def press(conv: Conversation, pressed: CallButton) -> None:
    """A slot, "Later dates", Reschedule or Cancel pressed in Telegram."""
    if not _bookable(conv):
        return
    match pressed:
        case PickSlot(mode=mode, minute=minute):
            start = _instant(minute)
            if start is None:
                conv.say("stale_button")
                return
            _pick(conv, mode, start)
        case MoreSlots(mode=mode, minute=minute):
            _more(conv, mode, _instant(minute) if minute else None)
        case ChangeCall(change=CallChange.RESCHEDULE):
            _ask_to_move(conv)
        case ChangeCall(change=CallChange.CANCEL):
            _cancel_by_candidate(conv)


def _bookable(conv: Conversation) -> bool:
    """Whether this interview takes bookings now; if not, say why."""
    if conv.interview.status == InterviewStatus.WITHDRAWN:
        conv.say("withdrawn")
        return False
    if conv.interview.stage != Stage.LIVE_INTERVIEW:
        conv.say("booking.closed")
        return False
    return True


def _more(conv: Conversation, mode: CallMode, after: datetime | None) -> None:
    live = booking.live_booking(conv.session, conv.interview_id)
    if mode == CallMode.BOOK and live is not None:
        _already(conv, live)
        return
    if mode == CallMode.MOVE and (live is None or _too_late(conv, live)):
        _cannot_move(conv, live)
        return
    moving = live if mode == CallMode.MOVE else None
    found = _slots_for(conv, moving, after)
    if not found.slots and after is not None:
        after, found = None, _slots_for(conv, moving, None)  # past the last: from the first
    if not found.slots:
        conv.say("slots.none")
        return
    _show(conv, found, mode, after, "slots.more")


def _slots_for(
    conv: Conversation, live: Booking | None, after: datetime | None, at: datetime | None = None
) -> Slots:
    """A page's worth of slots after ``after`` for this candidate (for moving ``live`` when
    given), or only the one starting ``at``."""
    only, moving = None, None
    if live is not None:
        assert live.id is not None
        only = booking.interviewers_of(conv.session, live.id)
        moving = Interval(live.starts_at, live.ends_at)
    if at is not None:
        within = Interval(at, at + timedelta(minutes=1))
        return open_slots(
            conv.session, conv.opening, conv.now, only=only, moving=moving, within=within
        )
    return slots_after(conv.session, conv.opening, conv.now, after, only=only, moving=moving)


def _pick(conv: Conversation, mode: CallMode, start: datetime) -> None:
    session = conv.session
    live = booking.live_booking(session, conv.interview_id)
    if mode == CallMode.BOOK and live is not None:
        _already(conv, live)
        return
    if mode == CallMode.MOVE and (live is None or _too_late(conv, live)):
        _cannot_move(conv, live)
        return
    moving = live if mode == CallMode.MOVE else None
    if start <= conv.now:
        _apologise(conv, "slots.past", mode, moving, None)
        return
    slot = _slots_for(conv, moving, None, at=start).at(start)
    if slot is None:
        _apologise(conv, "slots.taken", mode, moving, start)
        return
    before = moving.starts_at if moving is not None else None
    try:
        # A savepoint: a refused seat leaves the booking (or its absence) exactly as it was.
        with session.begin_nested():
            if moving is None:
                made = _book(conv, slot)
            else:
                assert moving.id is not None
                made = booking.reschedule(
                    session, booking_id=moving.id, slot=slot.interval, now=conv.now
                )
                made.changed_by = CANDIDATE
                session.flush()
    except booking.SlotTaken:
        _apologise(conv, "slots.taken", mode, moving, start)
        return
    if before is None:
        _booked(conv, made)
    else:
        _moved(conv, made, before)


def _book(conv: Conversation, slot: Slot) -> Booking:
    made = booking.book(
        conv.session,
        interview_id=conv.interview_id,
        interviewers=slot.interviewers,
        slot=slot.interval,
        now=conv.now,
    )
    made.url = meeting_link(conv.opening.meeting_url)
    made.changed_by = CANDIDATE
    conv.session.flush()
    return made


def _apologise(
    conv: Conversation, key: str, mode: CallMode, moving: Booking | None, start: datetime | None
) -> None:
    """The picked time cannot be had: say so, with the free times from it on (read again,
    so a slot the winner of a race took is gone)."""
    after = start - timedelta(seconds=1) if start is not None else None
    found = _slots_for(conv, moving, after)
    if not found.slots and after is not None:
        after, found = None, _slots_for(conv, moving, None)
    if not found.slots:
        conv.say("slots.gone")
        conv.say("slots.none")
        return
    _show(conv, found, mode, after, key)


def show_booked(conv: Conversation) -> None:
    """``/status``: the candidate's live interview still ahead, with its link, and the
    Reschedule / Cancel buttons while it may still be changed here."""
    live = booking.live_booking(conv.session, conv.interview_id)
    if live is None or live.starts_at <= conv.now:
        return
    choices = [] if _too_late(conv, live) else _change_buttons(conv)
    conv.say("booking.status", choices, moment=conv.when(live.starts_at), url=live.url)


def _already(conv: Conversation, live: Booking) -> None:
    conv.say("booking.already", _change_buttons(conv), moment=conv.when(live.starts_at))


def _booked(conv: Conversation, made: Booking) -> None:
    # The calendar invitation is promised only where one goes out (someone has an address).
    key = (
        "booking.confirmed"
        if invitations.goes_out(conv.session, made, conv.now)
        else "booking.confirmed.no_invitation"
    )
    conv.say(key, _change_buttons(conv), moment=conv.when(made.starts_at), url=made.url)
    _post_call(
        conv.session, conv.interview, made, "📅 The candidate booked the live interview", conv.now
    )
    invitations.booked(conv.session, made, conv.now)


def _moved(conv: Conversation, made: Booking, before: datetime) -> None:
    conv.say("booking.moved", _change_buttons(conv), moment=conv.when(made.starts_at), url=made.url)
    _close_call_post(conv.session, conv.interview, made, made.sequence - 1, "🔁 moved", conv.now)
    _post_call(
        conv.session,
        conv.interview,
        made,
        f"🔁 The candidate moved the live interview from {format_deadline(before)}",
        conv.now,
    )
    invitations.moved(conv.session, made, conv.now)


def _change_buttons(conv: Conversation) -> list[list[Choice]]:
    return [
        [
            conv.choice(
                conv.text("booking.reschedule"),
                ChangeCall(CallChange.RESCHEDULE, conv.interview_id),
            ),
            conv.choice(
                conv.text("booking.cancel"), ChangeCall(CallChange.CANCEL, conv.interview_id)
            ),
        ]
    ]


def _too_late(conv: Conversation, live: Booking) -> bool:
    """Past the cut-off, the candidate changes nothing here; a move the team asked for
    (``changed_by`` is a recruiter) stays open until the call starts."""
    if conv.now >= live.starts_at:
        return True
    cutoff = live.starts_at - timedelta(hours=SchedulingLimit.CHANGE_CUTOFF_HOURS)
    return conv.now >= cutoff and live.changed_by == CANDIDATE


def _cannot_move(conv: Conversation, live: Booking | None) -> None:
    if live is None:
        conv.say("booking.none", [[_book_again(conv)]])
    else:
        conv.say("booking.too_late", moment=conv.when(live.starts_at))


def _book_again(conv: Conversation) -> Choice:
    return conv.choice(conv.text("slots.pick"), MoreSlots(CallMode.BOOK, 0, conv.interview_id))


def _ask_to_move(conv: Conversation) -> None:
    live = booking.live_booking(conv.session, conv.interview_id)
    if live is None or _too_late(conv, live):
        _cannot_move(conv, live)
        return
    found = _slots_for(conv, live, None)
    if not found.slots:
        conv.say("slots.none_to_move", moment=conv.when(live.starts_at))
        return
    _show(conv, found, CallMode.MOVE, None, "booking.pick_new", moment=conv.when(live.starts_at))


def _cancel_by_candidate(conv: Conversation) -> None:
    live = booking.live_booking(conv.session, conv.interview_id)
    if live is None or _too_late(conv, live):
        _cannot_move(conv, live)
        return
    assert live.id is not None
    gone = booking.cancel(conv.session, booking_id=live.id, now=conv.now)
    gone.changed_by = CANDIDATE
    conv.say("booking.cancelled", [[_book_again(conv)]], moment=conv.when(gone.starts_at))
    _close_call_post(
        conv.session, conv.interview, gone, gone.sequence - 1, "❌ cancelled", conv.now
    )
    review.note_in_thread(
        conv.session,
        conv.interview,
        f"❌ The candidate cancelled the live interview of {format_deadline(gone.starts_at)}; "
        "the time is free again.",
        conv.now,
    )
    invitations.cancelled(conv.session, gone, conv.now)


# ------------------------------------------------------------------ the team's side


def team_change(
    session: Session, *, booking_id: int, change: CallChange, by: str, now: datetime
) -> str:
    """A recruiter's Reschedule or Cancel in the thread (the listener checked the role).

    Reschedule offers the candidate the times again and moves the call when they pick one;
    until then the call stands. Cancel frees the time at once. Both sides are told.
    Returns a line for the recruiter.
    """
    found = session.get(Booking, booking_id)
    if found is None:
        raise NotFound("That call no longer exists.")
    interview = review.existing_interview(session, found.interview_id)
    live = booking.live_booking(session, found.interview_id)
    if live is None or live.id != booking_id:
        raise IllegalTransition("That call was cancelled already.")
    if now >= live.starts_at:
        raise IllegalTransition("That call has started: it can no longer be changed here.")
    conv = of_interview(session, interview, now)
    reachable = conv.candidate.telegram_chat_id is not None
    if change == CallChange.CANCEL:
        gone = booking.cancel(session, booking_id=booking_id, now=now)
        gone.changed_by = by
        _close_call_post(session, interview, gone, gone.sequence - 1, "❌ cancelled", now)
        review.note_in_thread(
            session,
            interview,
            f"❌ <@{by}> cancelled the live interview of {format_deadline(gone.starts_at)}; "
            "the time is free again.",
            now,
        )
        if reachable:
            conv.say("booking.cancelled_by_team", moment=conv.when(gone.starts_at))
        invitations.cancelled(session, gone, now)
        return "Cancelled; the candidate was told." if reachable else "Cancelled."
    if not reachable:
        raise IllegalTransition("The candidate can't be reached on Telegram to pick a new time.")
    live.changed_by = by  # the team asked: the candidate may move it past the cut-off
    live.updated_at = now
    slots = _slots_for(conv, live, None)
    if not slots.slots:
        review.note_in_thread(
            session,
            interview,
            f"📭 <@{by}> asked to move the call, but its interviewers have no other free "
            "time: it stays as booked.",
            now,
        )
        return "No other free times: the call stays as booked."
    _show(
        conv,
        slots,
        CallMode.MOVE,
        None,
        "booking.team_reschedule",
        moment=conv.when(live.starts_at),
    )
    review.note_in_thread(
        session,
        interview,
        f"🔁 <@{by}> asked the candidate to pick a new time; the call stands until they do.",
        now,
    )
    return "The candidate was offered new times; the call stands until they pick one."


def call_off(session: Session, interview: Interview, by: str, now: datetime) -> None:
    """The candidate was rejected: a call still ahead is cancelled (its interviewers get the
    CANCEL), so nobody waits in a room for it. The candidate hears the decision itself."""
    assert interview.id is not None
    live = booking.live_booking(session, interview.id)
    if live is None or live.id is None or live.starts_at <= now:
        return
    gone = booking.cancel(session, booking_id=live.id, now=now)
    gone.changed_by = by
    _close_call_post(session, interview, gone, gone.sequence - 1, "❌ cancelled", now)
    review.note_in_thread(
        session,
        interview,
        f"❌ The live interview of {format_deadline(gone.starts_at)} was cancelled with the "
        "rejection; the time is free again.",
        now,
    )
    invitations.cancelled(session, gone, now)


def _call_key(made: Booking, sequence: int) -> str:
    return f"call:{made.id}:{sequence}"


def _call_text(session: Session, made: Booking, headline: str) -> str:
    assert made.id is not None
    people = " ".join(f"<@{who}>" for who in booking.interviewers_of(session, made.id))
    when = f"{format_deadline(made.starts_at)}–{made.ends_at:%H:%M} UTC"
    return f"{headline}: *{when}* with {people}.\nCall link: {made.url}"


def _post_call(
    session: Session, interview: Interview, made: Booking, headline: str, now: datetime
) -> None:
    """The booked call in the thread, with the recruiters' Reschedule / Cancel."""
    assert interview.id is not None and made.id is not None
    choices = (
        Choice("🔁 Reschedule", TeamCallChange(CallChange.RESCHEDULE, made.id).pack()),
        Choice("❌ Cancel call", TeamCallChange(CallChange.CANCEL, made.id).pack()),
    )
    text = _call_text(session, made, headline)
    threads.post(session, interview.id, _call_key(made, made.sequence), text, now, choices)


def _close_call_post(
    session: Session,
    interview: Interview,
    made: Booking,
    sequence: int,
    outcome: str,
    now: datetime,
) -> None:
    """The call's earlier post loses its buttons: they would act on a time that is gone."""
    assert interview.id is not None
    message = threads.find(session, interview.id, _call_key(made, sequence))
    if message is None:
        return
    seats = session.exec(
        select(BookingSeat.interviewer)
        .where(col(BookingSeat.booking_id) == made.id)
        .order_by(col(BookingSeat.id))
    ).all()
    people = " ".join(f"<@{who}>" for who in dict.fromkeys(seats))
    threads.edit(
        session,
        interview.id,
        _call_key(made, sequence),
        f"~Live interview with {people}~ ({outcome}, see below).",
        now,
    )
