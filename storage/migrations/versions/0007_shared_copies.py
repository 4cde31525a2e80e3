"""shared copies: what the bot put in Slack about a candidate, so erasure can delete it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sharedcopy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=True),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sharedcopy", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharedcopy_interview_id"), ["interview_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sharedcopy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharedcopy_interview_id"))
    op.drop_table("sharedcopy")
