"""share links: a candidate's answers for someone outside Slack

Revision ID: 0016_share_links
Revises: 0015_relay
Create Date: 2026-11-28 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016_share_links"
down_revision: str | None = "0015_relay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sharelink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=32), nullable=True),
        sa.Column("views", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("votes_window_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("votes_in_window", sa.Integer(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("sharelink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharelink_interview_id"), ["interview_id"])


def downgrade() -> None:
    with op.batch_alter_table("sharelink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharelink_interview_id"))
    op.drop_table("sharelink")
