"""intro clips per opening and question; interviews run as a recruiter's preview

Revision ID: 0018_intro_clips
Revises: 0017_procrastinate
Create Date: 2026-11-28 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018_intro_clips"
down_revision: str | None = "0017_procrastinate"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("preview", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "introclip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("opening_id", sa.Integer(), nullable=False),
        sa.Column("question_position", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("media_path", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("telegram_file_id", sa.String(length=256), nullable=True),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["opening_id"], ["opening.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("introclip", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_introclip_opening_id"), ["opening_id"])


def downgrade() -> None:
    with op.batch_alter_table("introclip", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_introclip_opening_id"))
    op.drop_table("introclip")
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.drop_column("preview")
