"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from bot.unit_of_work import UnitOfWork
from storage import migrate


def test_migrations_match_the_models(uow: UnitOfWork, database_url: str) -> None:
    with uow.db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": migrate.ours}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
    assert migrate.current(database_url) is not None


def test_migrating_twice_changes_nothing(uow: UnitOfWork, database_url: str) -> None:
    before = migrate.current(database_url)
    migrate.upgrade(database_url)
    assert migrate.current(database_url) == before
