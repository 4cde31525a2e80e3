"""The inbox keeps every update once, hands each chat's updates out in order, one at a time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from bot.unit_of_work import UnitOfWork
from storage import inbox, migrate
from storage.db import make_engine, transaction
from storage.inbox import Received
from storage.models import InboxStatus, InboxUpdate

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=10)


def _update(update_id: int, chat: str | None, text: str = "hello") -> Received:
    return Received(update_id, chat, {"update_id": update_id, "message": {"text": text}})


def test_an_update_is_stored_once_and_one_hirebot_ignores_keeps_no_content(uow: UnitOfWork) -> None:
    batch = [_update(1, "10"), _update(2, None, "a channel post"), _update(3, "11")]
    assert uow.run_sync(lambda s, _now: inbox.store(s, batch, NOW)) == 3
    assert uow.run_sync(lambda s, _now: inbox.store(s, batch, NOW)) == 0  # redelivered
    rows = uow.run_sync(lambda s, _now: s.exec(select(InboxUpdate)).all())
    assert [(r.update_id, r.status, bool(r.payload)) for r in rows] == [
        (1, InboxStatus.PENDING, True),
        (2, InboxStatus.IGNORED, False),
        (3, InboxStatus.PENDING, True),
    ]


def test_an_update_two_processes_store_at_once_is_stored_once_without_an_error(
    uow: UnitOfWork, database_url: str
) -> None:
    """Telegram redelivers an update to the other bot process while the first one's
    transaction has not committed: the second INSERT waits on the key, then skips the row
    (it used to fail the whole store, answered 500)."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite allows one writer at a time; the race is PostgreSQL's")
    first_inserted, second_done = threading.Event(), threading.Event()
    counts: dict[str, int] = {}

    def first() -> None:
        with Session(uow.db.engine) as session:
            counts["first"] = inbox.store(session, [_update(7, "10")], NOW)
            first_inserted.set()
            second_done.wait(1.0)  # the second is blocked on our uncommitted key meanwhile
            session.commit()

    slow = threading.Thread(target=first)
    slow.start()
    first_inserted.wait(5)
    with Session(uow.db.engine) as session:
        # Its SELECT saw nothing (not committed yet); its INSERT waits for the first.
        counts["second"] = inbox.store(session, [_update(7, "10"), _update(8, "11")], NOW)
        session.commit()
    second_done.set()
    slow.join(10)
    assert counts == {"first": 1, "second": 1}
    rows = uow.run_sync(lambda s, _now: s.exec(select(InboxUpdate.update_id)).all())
    assert sorted(rows) == [7, 8]


def test_each_chat_hands_out_its_earliest_update_only(uow: UnitOfWork) -> None:
    uow.run_sync(
        lambda s, _now: inbox.store(
            s, [_update(1, "10"), _update(2, "10"), _update(3, "11"), _update(4, "12")], NOW
        )
    )
    claimed = uow.run_sync(
        lambda s, _now: inbox.claim(s, now=NOW, lease=LEASE, limit=10, busy={"12"})
    )
    assert [(c.update_id, c.attempts) for c in claimed] == [(1, 1), (3, 1)]
    # While update 1 is leased, its chat's next update waits; another process gets nothing.
    assert uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW, lease=LEASE, limit=10)) == [
        inbox.Claimed(4, "12", {"update_id": 4, "message": {"text": "hello"}}, 1)
    ]
    uow.run_sync(lambda s, _now: inbox.mark_done(s, 1, NOW))
    [second] = uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW, lease=LEASE, limit=10))
    assert second.update_id == 2
    done = uow.run_sync(lambda s, _now: s.get(InboxUpdate, 1))
    assert done is not None and (done.status, done.payload) == (InboxStatus.DONE, {})


def test_a_crashed_claim_is_taken_over_after_its_lease_and_counts_an_attempt(
    uow: UnitOfWork,
) -> None:
    uow.run_sync(lambda s, _now: inbox.store(s, [_update(1, "10")], NOW))
    uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW, lease=LEASE, limit=10))
    assert (
        uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW + LEASE / 2, lease=LEASE, limit=10))
        == []
    )
    [again] = uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW + LEASE, lease=LEASE, limit=10))
    assert again.attempts == 2


def test_a_retry_waits_its_turn_and_a_failure_keeps_the_error_type_only(uow: UnitOfWork) -> None:
    uow.run_sync(lambda s, _now: inbox.store(s, [_update(1, "10"), _update(2, "10")], NOW))
    uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW, lease=LEASE, limit=10))
    later = NOW + timedelta(seconds=2)
    uow.run_sync(lambda s, _now: inbox.mark_retry(s, 1, at=later, error_type="RuntimeError"))
    # Update 2 does not overtake update 1 while it waits for its retry.
    assert uow.run_sync(lambda s, _now: inbox.claim(s, now=NOW, lease=LEASE, limit=10)) == []
    [retried] = uow.run_sync(lambda s, _now: inbox.claim(s, now=later, lease=LEASE, limit=10))
    assert (retried.update_id, retried.attempts) == (1, 2)
    uow.run_sync(lambda s, _now: inbox.mark_failed(s, 1, "RuntimeError", later))
    failed = uow.run_sync(lambda s, _now: s.get(InboxUpdate, 1))
    assert failed is not None
    assert (failed.status, failed.last_error, failed.payload) == (
        InboxStatus.FAILED,
        "RuntimeError",
        {},
    )
    assert uow.run_sync(lambda s, _now: inbox.pending_count(s)) == 1


def test_settled_updates_are_forgotten_after_a_while_and_waiting_ones_never(
    uow: UnitOfWork,
) -> None:
    uow.run_sync(
        lambda s, _now: inbox.store(s, [_update(1, "10"), _update(2, None), _update(3, "11")], NOW)
    )
    uow.run_sync(lambda s, _now: inbox.mark_done(s, 1, NOW))
    assert uow.run_sync(lambda s, _now: inbox.prune(s, NOW + timedelta(days=8))) == 2
    rows = uow.run_sync(lambda s, _now: s.exec(select(InboxUpdate.update_id)).all())
    assert rows == [3]


def test_storing_and_claiming_a_batch_is_one_transaction_on_sqlite(tmp_path: Path) -> None:
    """What SQLite is told: one BEGIN before the store's savepoint, one COMMIT after the
    claim. pysqlite begins a transaction only before a write, so a savepoint first would
    begin it, and its RELEASE would commit the store alone."""
    url = f"sqlite:///{tmp_path / 'hirebot.db'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    told: list[str] = []

    @event.listens_for(engine, "connect")
    def trace(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_trace_callback(lambda sql: told.append(sql.split()[0].upper()))

    try:
        with transaction(engine) as session:
            told.clear()
            inbox.store(session, [_update(1, "chat:7")], NOW)
            inbox.claim(session, now=NOW, lease=LEASE, limit=5, busy=set())
        assert told.count("COMMIT") == 1 and told[-1] == "COMMIT", told
        assert told.index("BEGIN") < told.index("SAVEPOINT"), told
    finally:
        engine.dispose()
