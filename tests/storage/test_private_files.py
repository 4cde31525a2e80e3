"""The data folder and the SQLite files are private to the bot's user, whatever the umask."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.flows import openings
from bot.sandbox.world import OPENING_FILE
from bot.unit_of_work import opened
from storage import migrate
from storage.db import make_engine
from storage.models import Opening


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_data_dir_is_0700_and_sqlite_files_0600(tmp_path: Path, umask: int) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    previous = os.umask(umask)
    try:
        settings.data_dir.mkdir()  # as `hirebot run` does, under this umask
        migrate.upgrade(settings.db_url)
        with opened(settings.db_url, settings.media_dir) as uow:
            spec = openings.parse(OPENING_FILE)
            now = datetime(2026, 11, 25, tzinfo=UTC)
            uow.run_sync(lambda s, _now: openings.save(s, spec, now))
            with uow.db.engine.connect() as connection:  # a reader keeps -wal and -shm open
                connection.exec_driver_sql("SELECT 1")
                files = sorted(p.name for p in settings.data_dir.iterdir())
                modes = {p.name: _mode(p) for p in settings.data_dir.iterdir()}
            assert uow.run_sync(lambda s, _now: s.exec(select(Opening.slug)).all()) == [spec.slug]
    finally:
        os.umask(previous)
    assert files == ["hirebot.db", "hirebot.db-shm", "hirebot.db-wal"]
    assert _mode(settings.data_dir) == 0o700
    assert modes == {name: 0o600 for name in files}


def test_an_existing_database_with_loose_modes_is_made_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    database = folder / "hirebot.db"
    database.touch()
    os.chmod(database, 0o644)
    make_engine(f"sqlite:///{database}").dispose()
    assert (_mode(folder), _mode(database)) == (0o700, 0o600)
