"""the opening's ATS settings, and each interview's record in the ATS

Revision ID: 0019_ats_sync
Revises: 0018_intro_clips
Create Date: 2026-11-28 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019_ats_sync"
down_revision: str | None = "0018_intro_clips"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("opening", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ats", sa.JSON(), nullable=True))
    op.create_table(
        "atslink",
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=128), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("posting_note", sa.String(length=32), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("interview_id"),
    )


def downgrade() -> None:
    op.drop_table("atslink")
    with op.batch_alter_table("opening", schema=None) as batch_op:
        batch_op.drop_column("ats")
