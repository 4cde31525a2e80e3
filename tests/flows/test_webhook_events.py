"""Which events reach which endpoint, and that every body hirebot sends is what its JSON
Schema (docs/webhooks/v1, the contract with receivers) says."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, select

from bot.flows import booking, erasure, invitations, pipeline, review, webhooks
from bot.flows.availability import Interval
from bot.flows.ports import Transcript
from bot.flows.webhook_events import EVENTS
from storage.models import Answer, Booking, Interview
from tests.helpers.flows import RECRUITER, FlowWorld
from tests.helpers.webhooks import SCHEMAS, schema_errors

HOOK = "https://hooks.example.com/hirebot"


def bodies(world: FlowWorld, endpoint: int | None = None) -> list[dict[str, object]]:
    rows = world.outbox("webhook")
    return [
        json.loads(str(r.payload["body"]))
        for r in rows
        if endpoint is None or r.payload["endpoint_id"] == endpoint
    ]


def subscribe(world: FlowWorld, *events: str) -> int:
    chosen = webhooks.events_named(list(events))
    return world.run(
        lambda s, now: webhooks.add(s, url=HOOK, events=chosen, by=RECRUITER, now=now)
    ).endpoint_id


def advance(world: FlowWorld, interview_id: int) -> None:
    world.run(lambda s, now: pipeline.advance(s, who=f"#{interview_id}", by=RECRUITER, now=now))


def _book_move_cancel(world: FlowWorld, interview_id: int) -> None:
    start = world.now + timedelta(days=3)

    def book(session: Session, now: object) -> int:
        held = booking.book(
            session,
            interview_id=interview_id,
            interviewers=["U0ALEX"],
            slot=Interval(start, start + timedelta(minutes=30)),
            now=world.now,
        )
        held.changed_by = RECRUITER
        invitations.booked(session, held, world.now)
        assert held.id is not None
        return held.id

    held = world.run(book)
    later = start + timedelta(hours=2)

    def move(session: Session, now: object) -> None:
        moved = booking.reschedule(
            session, booking_id=held, slot=Interval(later, later + timedelta(minutes=30)),
            now=world.now,
        )  # fmt: skip
        invitations.moved(session, moved, world.now)

    def cancel(session: Session, now: object) -> None:
        gone = booking.cancel(session, booking_id=held, now=world.now)
        invitations.cancelled(session, gone, world.now)

    world.run(move)
    world.run(cancel)


def test_every_event_we_send_validates_against_its_schema(world: FlowWorld) -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.schema.json")) == sorted(
        f"{e}.schema.json" for e in (*EVENTS, "webhook.test")
    )
    world.opening()
    everything = subscribe(world, *EVENTS)
    jane = world.invite(email="jane@example.org")
    world.agree(jane)
    world.answer(jane)
    answer_id = world.read(lambda s: s.exec(select(Answer.id)).first())
    assert answer_id is not None
    heard = Transcript(text="Payments.", language="en", language_probability=0.99,
                       duration_seconds=2.0)  # fmt: skip
    world.run(lambda s, now: review.answer_transcribed(s, answer_id, heard, None, now))
    world.answer(jane)
    world.vote(jane.interview_id, "U0TOM", review.VoteChoice.NO)
    world.run(
        lambda s, now: pipeline.advance(s, who=f"#{jane.interview_id}", by=RECRUITER, now=now)
    )
    _book_move_cancel(world, jane.interview_id)
    before = bodies(world, everything)
    for body in before:
        assert schema_errors(body) == [], body
    assert {b["type"] for b in before} == set(EVENTS) - {"candidate.erased"}
    world.run(
        lambda s, now: erasure.erase_person(
            s, s.get_one(Interview, jane.interview_id), by="the candidate", now=now
        )
    )
    # Erasure dropped every undelivered event about Jane, and says it happened.
    sent = bodies(world, everything)
    assert [b["type"] for b in sent] == ["candidate.erased"]
    assert schema_errors(sent[0]) == []


def test_bodies_before_erasure_validate_and_name_the_candidate_only_when_invited(
    world: FlowWorld,
) -> None:
    world.opening()
    subscribe(world, *EVENTS)
    jane = world.invite(email="jane@example.org")
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)
    world.run(
        lambda s, now: pipeline.advance(s, who=f"#{jane.interview_id}", by=RECRUITER, now=now)
    )
    _book_move_cancel(world, jane.interview_id)
    sent = bodies(world)
    assert [b["type"] for b in sent] == [
        "interview.invited",
        "interview.started",
        "interview.completed",
        "decision.made",
        "booking.booked",
        "booking.moved",
        "booking.cancelled",
    ]
    for body in sent:
        assert schema_errors(body) == [], body
    booked, moved, cancelled = sent[-3:]
    data = [b["data"] for b in (booked, moved, cancelled)]
    assert [d["sequence"] for d in data] == [0, 1, 2]  # type: ignore[index]
    held = world.read(lambda s: s.exec(select(Booking)).one())
    assert data[2]["booking_id"] == held.id  # type: ignore[index]
    assert all("jane" not in json.dumps(b).lower() for b in sent[1:])


def test_an_endpoint_gets_only_what_it_subscribed_to(world: FlowWorld) -> None:
    world.opening()
    votes = subscribe(world, "review.voted")
    bookings = subscribe(world, "booking.*")
    jane = world.invite()
    world.agree(jane)
    world.answer(jane)
    world.answer(jane)
    world.vote(jane.interview_id, "U0TOM", review.VoteChoice.YES)
    assert [b["type"] for b in bodies(world, votes)] == ["review.voted"]
    assert bodies(world, bookings) == []
    rows = world.outbox("webhook")
    assert [r.ordering_key for r in rows] == [f"hook:{votes}"]
