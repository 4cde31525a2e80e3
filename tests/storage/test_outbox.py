"""Outbox claiming: oldest first per conversation, one claimant at a time, leases expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.unit_of_work import UnitOfWork
from storage import channel_problems, outbox
from storage.models import OutboxMessage

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


def _enqueue(uow: UnitOfWork, key: str, text: str) -> int:
    def add(session: Session, _now: datetime) -> int:
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

    return uow.run_sync(add)


def test_only_the_oldest_pending_row_of_a_conversation_is_due(uow: UnitOfWork) -> None:
    a1 = _enqueue(uow, "tg:1", "first")
    _enqueue(uow, "tg:1", "second")
    b1 = _enqueue(uow, "tg:2", "other chat")
    claimed = uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    assert claimed == [a1, b1]


def test_a_claimed_row_is_not_claimed_again_until_its_lease_expires(uow: UnitOfWork) -> None:
    row = _enqueue(uow, "tg:1", "hello")
    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == [row]
    later = T0 + timedelta(seconds=30)
    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=later, lease=LEASE, limit=10)) == []
    # The process that claimed it died: after the lease, another one takes it over.
    expired = T0 + timedelta(seconds=61)
    assert uow.run_sync(
        lambda s, _now: outbox.claim_due(s, now=expired, lease=LEASE, limit=10)
    ) == [row]


def test_retry_waits_and_keeps_later_rows_of_the_conversation_behind(uow: UnitOfWork) -> None:
    first = _enqueue(uow, "tg:1", "first")
    second = _enqueue(uow, "tg:1", "second")
    uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    retry_at = T0 + timedelta(seconds=5)
    uow.run_sync(lambda s, _now: outbox.mark_retry(s, first, at=retry_at, error="429"))
    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == []
    assert uow.run_sync(
        lambda s, _now: outbox.claim_due(s, now=retry_at, lease=LEASE, limit=10)
    ) == [first]
    uow.run_sync(lambda s, _now: outbox.mark_sent(s, first, retry_at))
    assert uow.run_sync(
        lambda s, _now: outbox.claim_due(s, now=retry_at, lease=LEASE, limit=10)
    ) == [second]
    assert uow.run_sync(lambda s, _now: outbox.pending_count(s)) == 1


def test_a_newer_card_replaces_updates_still_waiting_but_not_one_in_flight(uow: UnitOfWork) -> None:
    def card_update(session: Session, text: str) -> None:
        outbox.enqueue(
            session,
            ordering_key="review:1",
            kind="review.card.update",
            payload={"t": text},
            now=T0,
        )

    uow.run_sync(lambda s, _now: card_update(s, "v1"))
    [in_flight] = uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    uow.run_sync(lambda s, _now: card_update(s, "v2"))
    uow.run_sync(lambda s, _now: card_update(s, "v3"))

    def replace(session: Session, _now: datetime) -> int:
        dropped = outbox.drop_pending(session, ordering_key="review:1", kind="review.card.update")
        card_update(session, "v4")
        return dropped

    assert uow.run_sync(replace) == 2  # v2 and v3: never sent, superseded by v4
    rows = uow.run_sync(
        lambda s, _now: s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    )
    assert [(r.id == in_flight, r.payload["t"]) for r in rows] == [(True, "v1"), (False, "v4")]


def test_rows_this_process_is_sending_are_never_claimed_again_by_it(uow: UnitOfWork) -> None:
    row = _enqueue(uow, "tg:1", "a long upload")
    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == [row]
    much_later = T0 + timedelta(minutes=10)  # the lease ran out while the upload goes on
    again = uow.run_sync(
        lambda s, _now: outbox.claim_due(s, now=much_later, lease=LEASE, limit=10, exclude={row})
    )
    assert again == []
    # Renewing the lease keeps other processes away too.
    uow.run_sync(lambda s, _now: outbox.extend_lease(s, {row}, much_later + LEASE))
    assert (
        uow.run_sync(lambda s, _now: outbox.claim_due(s, now=much_later, lease=LEASE, limit=10))
        == []
    )


def test_rows_waiting_for_a_channel_are_released_together_and_keep_their_order(
    uow: UnitOfWork,
) -> None:
    card_a = _enqueue(uow, "review:1", "card a")
    answer_a = _enqueue(uow, "review:1", "answer a")
    card_b = _enqueue(uow, "review:2", "card b")
    other = _enqueue(uow, "review:3", "card elsewhere")
    claimed = uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    assert claimed == [card_a, card_b, other]
    later = T0 + timedelta(minutes=5)

    def park(session: Session, _now: datetime) -> None:
        for row in (card_a, card_b):
            outbox.wait_for_channel(
                session, row, channel="C1", at=later, error="waiting for C1: not_in_channel"
            )

    uow.run_sync(park)
    uow.run_sync(lambda s, _now: outbox.mark_retry(s, other, at=later, error="429"))
    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == []

    # The bot is invited to C1: its rows are due at once, the 429 still waits for its time.
    assert uow.run_sync(lambda s, _now: outbox.release_channel(s, "C1", T0)) == 2
    claimed = uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10))
    assert claimed == [card_a, card_b]  # the answer stays behind its card
    uow.run_sync(lambda s, _now: outbox.mark_sent(s, card_a, T0))
    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=T0, lease=LEASE, limit=10)) == [
        answer_a
    ]
    rows = uow.run_sync(lambda s, _now: s.exec(select(OutboxMessage)).all())
    assert all(r.waiting_for_channel is None for r in rows)


def test_a_channel_problem_is_reported_once_until_it_is_resolved(uow: UnitOfWork) -> None:
    def report(problem: str) -> bool:
        return uow.run_sync(lambda s, _now: channel_problems.report_once(s, "C1", problem, T0))

    assert report("not_in_channel") is True
    assert report("not_in_channel") is False  # the next row, the next retry
    assert report("is_archived") is True  # a different problem: worth telling
    assert uow.run_sync(lambda s, _now: channel_problems.resolve(s, "C1")) is True
    assert report("not_in_channel") is True  # broken again later: told again


def test_delivered_rows_are_pruned_a_day_after_delivery_and_pending_ones_never(
    uow: UnitOfWork,
) -> None:
    sent_long_ago, sent_lately, refused, waiting = (
        _enqueue(uow, f"tg:{n}", text) for n, text in enumerate("abcd")
    )
    uow.run_sync(lambda s, _now: outbox.mark_sent(s, sent_long_ago, T0))
    uow.run_sync(lambda s, _now: outbox.mark_sent(s, sent_lately, T0 + timedelta(hours=23)))
    uow.run_sync(lambda s, _now: outbox.mark_failed(s, refused, "Telegram refused: blocked"))

    pruned = uow.run_sync(
        lambda s, _now: outbox.prune_delivered(s, T0 + timedelta(hours=24, seconds=1))
    )

    assert pruned == 2
    left = uow.run_sync(
        lambda s, _now: s.exec(select(OutboxMessage.id).order_by(col(OutboxMessage.id))).all()
    )
    assert left == [sent_lately, waiting]


def test_a_lane_claims_only_its_keys_and_each_key_keeps_its_order(uow: UnitOfWork) -> None:
    upload = _enqueue(uow, "review:1", "a slow upload")
    chat = _enqueue(uow, "tg:1", "got it")
    later_in_chat = _enqueue(uow, "tg:1", "next question")
    mail = _enqueue(uow, "mail:x", "an invitation")
    # A prefix is matched literally: "_" and "%" are not wildcards.
    odd = _enqueue(uow, "tgx1", "not a candidate chat")

    def claim(keys: str | None = None, other_keys: str | None = None) -> list[int]:
        return uow.run_sync(
            lambda s, _now: outbox.claim_due(
                s, now=T0, lease=LEASE, limit=10, keys=keys, other_keys=other_keys
            )
        )

    assert claim(keys="tg:") == [chat]
    assert claim(other_keys="tg:") == [upload, mail, odd]
    assert claim(keys="t_") == []
    # The chat's next message waits for its first, whichever lane asks.
    assert claim(keys="tg:") == [] and claim() == []
    uow.run_sync(lambda s, _now: outbox.mark_sent(s, chat, T0))
    assert claim(other_keys="tg:") == []
    assert claim(keys="tg:") == [later_in_chat]


def test_the_next_row_of_a_conversation_is_claimed_with_the_mark_of_the_one_before(
    uow: UnitOfWork,
) -> None:
    first = _enqueue(uow, "tg:1", "got it")
    second = _enqueue(uow, "tg:1", "question 2")
    _enqueue(uow, "tg:2", "another chat")
    later = T0 + timedelta(seconds=1)

    def claim_next(session: Session, _now: datetime) -> int | None:
        row = outbox.claim_next(session, "tg:1", now=later, lease=LEASE)
        return None if row is None else row.id

    assert uow.run_sync(lambda s, _now: outbox.claim_due(s, now=later, lease=LEASE, limit=1)) == [
        first
    ]
    # Still pending (in flight): the next one is not due, and claiming it again changes nothing.
    assert uow.run_sync(claim_next) is None

    def mark_and_claim(session: Session, now: datetime) -> int | None:
        outbox.mark_sent(session, first, later)
        return claim_next(session, now)

    assert uow.run_sync(mark_and_claim) == second
    # Leased to us: neither another claim nor a second claim_next takes it.
    assert second not in uow.run_sync(
        lambda s, _now: outbox.claim_due(s, now=later, lease=LEASE, limit=10)
    )
    assert uow.run_sync(claim_next) is None


def test_a_next_row_waiting_for_its_retry_is_not_claimed_early(uow: UnitOfWork) -> None:
    first = _enqueue(uow, "tg:1", "got it")
    second = _enqueue(uow, "tg:1", "question 2")
    retry_at = T0 + timedelta(minutes=5)

    def sent_then_next(session: Session, _now: datetime) -> OutboxMessage | None:
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == second)
            .values(next_attempt_at=retry_at)
        )
        outbox.mark_sent(session, first, T0)
        return outbox.claim_next(session, "tg:1", now=T0, lease=LEASE)

    assert uow.run_sync(sent_then_next) is None
    claimed = uow.run_sync(lambda s, _now: outbox.claim_next(s, "tg:1", now=retry_at, lease=LEASE))
    assert claimed is not None and claimed.id == second
