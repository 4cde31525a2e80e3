from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import migrate
from storage.db import Database, make_engine


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database (SQLite and PostgreSQL)."""
    migrate.upgrade(database_url)
    database = Database(make_engine(database_url))
    yield database
    database.dispose()
