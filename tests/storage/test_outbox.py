"""Outbox claiming: oldest first per conversation, one claimant at a time, leases expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from storage import channel_problems, outbox
from storage.db import Database
from storage.models import OutboxMessage

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _enqueue(db: Database, key: str, text: str) -> int:
    def add(session: Session) -> int:
        row = outbox.enqueue(
            session,
            ordering_key=key,
            kind="candidate.text",
            payload={"text": text},
            now=T0,
        )
        session.flush()
        assert row.id is not None
        return row.id

    return db.run_sync(add)


def test_only_the_oldest_pending_row_of_a_conversation_is_due(db: Database) -> None:
    a1 = _enqueue(db, "tg:1", "first")
    _enqueue(db, "tg:1", "second")
    b1 = _enqueue(db, "tg:2", "other chat")
    claimed = db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    assert claimed == [a1, b1]


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(db: Database) -> None:
    row = _enqueue(db, "tg:1", "hello")
    assert db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == [row]
    later = T0 + timedelta(seconds=30)
    assert db.run_sync(lambda s: outbox.claim_due(s, now=later, lease=LEASE, limit=10)) == []
    # The process that claimed it died: after the lease, another one takes it over.
    expired = T0 + timedelta(seconds=61)
    assert db.run_sync(lambda s: outbox.claim_due(s, now=expired, lease=LEASE, limit=10)) == [row]


def test_retry_waits_and_keeps_later_rows_of_the_conversation_behind(db: Database) -> None:
    first = _enqueue(db, "tg:1", "first")
    second = _enqueue(db, "tg:1", "second")
    db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    retry_at = T0 + timedelta(seconds=5)
    db.run_sync(lambda s: outbox.mark_retry(s, first, at=retry_at, error="429"))
    assert db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == []
    assert db.run_sync(lambda s: outbox.claim_due(s, now=retry_at, lease=LEASE, limit=10)) == [
        first
    ]
    db.run_sync(lambda s: outbox.mark_sent(s, first, retry_at))
    assert db.run_sync(lambda s: outbox.claim_due(s, now=retry_at, lease=LEASE, limit=10)) == [
        second
    ]
    assert db.run_sync(outbox.pending_count) == 1


def test_a_newer_card_replaces_updates_still_waiting_but_not_one_in_flight(db: Database) -> None:
    def card_update(session: Session, text: str) -> None:
        outbox.enqueue(
            session,
            ordering_key="review:1",
            kind="review.card.update",
            payload={"t": text},
            now=T0,
        )

    db.run_sync(lambda s: card_update(s, "v1"))
    [in_flight] = db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    db.run_sync(lambda s: card_update(s, "v2"))
    db.run_sync(lambda s: card_update(s, "v3"))

    def replace(session: Session) -> int:
        dropped = outbox.drop_pending(session, ordering_key="review:1", kind="review.card.update")
        card_update(session, "v4")
        return dropped

    assert db.run_sync(replace) == 2  # v2 and v3: never sent, superseded by v4
    rows = db.run_sync(lambda s: s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]
    assert [(r.id == in_flight, r.payload["t"]) for r in rows] == [(True, "v1"), (False, "v4")]


def test_rows_this_process_is_sending_are_never_claimed_again_by_it(db: Database) -> None:
    row = _enqueue(db, "tg:1", "a long upload")
    assert db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == [row]
    much_later = T0 + timedelta(minutes=10)  # the lease ran out while the upload goes on
    again = db.run_sync(
        lambda s: outbox.claim_due(s, now=much_later, lease=LEASE, limit=10, exclude={row})
    )
    assert again == []
    # Renewing the lease keeps other processes away too.
    db.run_sync(lambda s: outbox.extend_lease(s, {row}, much_later + LEASE))
    assert db.run_sync(lambda s: outbox.claim_due(s, now=much_later, lease=LEASE, limit=10)) == []


def test_rows_waiting_for_a_channel_are_released_together_and_keep_their_order(
    db: Database,
) -> None:
    card_a = _enqueue(db, "review:1", "card a")
    answer_a = _enqueue(db, "review:1", "answer a")
    card_b = _enqueue(db, "review:2", "card b")
    other = _enqueue(db, "review:3", "card elsewhere")
    claimed = db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    assert claimed == [card_a, card_b, other]
    later = T0 + timedelta(minutes=5)

    def park(session: Session) -> None:
        for row in (card_a, card_b):
            outbox.wait_for_channel(
                session, row, channel="C1", at=later, error="waiting for C1: not_in_channel"
            )

    db.run_sync(park)
    db.run_sync(lambda s: outbox.mark_retry(s, other, at=later, error="429"))
    assert db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == []

    # The bot is invited to C1: its rows are due at once, the 429 still waits for its time.
    assert db.run_sync(lambda s: outbox.release_channel(s, "C1", T0)) == 2
    claimed = db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    assert claimed == [card_a, card_b]  # the answer stays behind its card
    db.run_sync(lambda s: outbox.mark_sent(s, card_a, T0))
    assert db.run_sync(lambda s: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == [answer_a]
    rows = db.run_sync(lambda s: s.exec(select(OutboxMessage)).all())
    assert all(r.waiting_for_channel is None for r in rows)


def test_a_channel_problem_is_reported_once_until_it_is_resolved(db: Database) -> None:
    def report(problem: str) -> bool:
        return db.run_sync(lambda s: channel_problems.report_once(s, "C1", problem, T0))

    assert report("not_in_channel") is True
    assert report("not_in_channel") is False  # the next row, the next retry
    assert report("is_archived") is True  # a different problem: worth telling
    assert db.run_sync(lambda s: channel_problems.resolve(s, "C1")) is True
    assert report("not_in_channel") is True  # broken again later: told again


def test_delivered_rows_are_pruned_a_day_after_delivery_and_pending_ones_never(
    db: Database,
) -> None:
    sent_long_ago, sent_lately, refused, waiting = (
        _enqueue(db, f"tg:{n}", text) for n, text in enumerate("abcd")
    )
    db.run_sync(lambda s: outbox.mark_sent(s, sent_long_ago, T0))
    db.run_sync(lambda s: outbox.mark_sent(s, sent_lately, T0 + timedelta(hours=23)))
    db.run_sync(lambda s: outbox.mark_failed(s, refused, "Telegram refused: blocked"))

    pruned = db.run_sync(lambda s: outbox.prune_delivered(s, T0 + timedelta(hours=24, seconds=1)))

    assert pruned == 2
    left = db.run_sync(lambda s: s.exec(select(OutboxMessage.id).order_by(OutboxMessage.id)).all())  # type: ignore[arg-type]
    assert left == [sent_lately, waiting]
