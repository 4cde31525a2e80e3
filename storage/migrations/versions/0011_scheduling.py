"""scheduling: interviewers' hours and calendar feeds, openings' interviewers, booking
outcomes and reminders

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("opening", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interviewers", sa.JSON(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column("panel", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("meeting_url", sa.Text(), nullable=True))
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("slots_offered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column(
                "changed_by", sa.String(length=32), nullable=False, server_default="candidate"
            )
        )
        batch_op.add_column(sa.Column("outcome", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("outcome_by", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("outcome_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "interviewerhours",
        sa.Column("interviewer", sa.String(length=32), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("max_per_day", sa.Integer(), nullable=False),
        sa.Column("days_off", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("feed_url", sa.Text(), nullable=True),
        sa.Column("feed_busy", sa.JSON(), nullable=False),
        sa.Column("feed_read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("feed_tried_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("feed_error", sa.Text(), nullable=True),
        sa.Column("feed_error_told_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("interviewer"),
    )
    op.create_table(
        "bookingreminder",
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"]),
        sa.PrimaryKeyConstraint("booking_id", "sequence", "rule"),
    )


def downgrade() -> None:
    op.drop_table("bookingreminder")
    op.drop_table("interviewerhours")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        for column in ("outcome_at", "outcome_by", "outcome", "changed_by", "url"):
            batch_op.drop_column(column)
    with op.batch_alter_table("interview", schema=None) as batch_op:
        batch_op.drop_column("slots_offered_at")
    with op.batch_alter_table("opening", schema=None) as batch_op:
        for column in ("meeting_url", "panel", "interviewers"):
            batch_op.drop_column(column)
