"""A deleted row's bytes do not stay in the SQLite file or its write-ahead log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.unit_of_work import opened
from storage import migrate
from storage.db import scrub_deleted
from storage.models import Candidate

CANARY = "Ottoline Vanterpool-Canary"


def _on_disk(folder: Path) -> dict[str, bool]:
    return {p.name: CANARY.encode() in p.read_bytes() for p in sorted(folder.iterdir())}


def test_deleted_rows_are_zeroed_and_the_wal_emptied(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hirebot.db'}"
    migrate.upgrade(url)
    with opened(url, tmp_path / "media") as uow:
        now = datetime(2026, 11, 25, tzinfo=UTC)
        uow.run_sync(lambda s, _now: s.add(Candidate(name=CANARY, created_at=now)))
        uow.run_sync(lambda s, _now: s.add(Candidate(name="Someone Else", created_at=now)))
        scrub_deleted(uow.db.engine)  # the row is in the database file itself now
        assert _on_disk(tmp_path)["hirebot.db"]

        uow.run_sync(
            lambda s, _now: s.delete(
                s.exec(select(Candidate).where(Candidate.name == CANARY)).one()
            )
        )
        scrub_deleted(uow.db.engine)

        assert not any(_on_disk(tmp_path).values())
        assert (tmp_path / "hirebot.db-wal").stat().st_size == 0
        assert uow.run_sync(lambda s, _now: s.exec(select(Candidate.name)).all()) == [
            "Someone Else"
        ]
