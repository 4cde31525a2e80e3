"""procrastinate's tables and functions (PostgreSQL): transcription jobs for any worker

Revision ID: 0017_procrastinate
Revises: 0016_share_links
Create Date: 2026-11-28 02:50:00

On PostgreSQL, transcription runs as procrastinate jobs (bot/transcription/distributed.py);
this applies the schema of the procrastinate version installed, so a fresh install needs no
``procrastinate schema --apply``. A later procrastinate release that changes its schema
comes with a migration of ours applying its migration files
(``procrastinate.schema.SchemaManager.get_migrations_path()``). SQLite: nothing.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_procrastinate"
down_revision: str | None = "0016_share_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if sa.inspect(bind).has_table("procrastinate_jobs"):
        return  # applied by hand (procrastinate schema --apply) before this migration
    from procrastinate.schema import SchemaManager

    # SQLAlchemy hands psycopg a (empty) parameter set, so "%" must be doubled, as
    # procrastinate's own apply_schema does.
    bind.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    tables = ("events", "periodic_defers", "jobs", "workers")
    for name in (f"procrastinate_{t}" for t in tables):
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {name} CASCADE")
