"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from storage import migrate
from storage.db import Database


def test_migrations_match_the_models(db: Database, database_url: str) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
    assert migrate.current(database_url) is not None


def test_migrating_twice_changes_nothing(db: Database, database_url: str) -> None:
    before = migrate.current(database_url)
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == before
