"""bookings: live interviews booked by candidates, and each interviewer's seat in them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# No interviewer in two live calls at once, enforced by PostgreSQL whatever the starts and
# lengths (the unique index below only catches equal starts). btree_gist lets a GiST index
# compare the interviewer's id with "="; it is a trusted extension (PostgreSQL 13+), so the
# database's owner may create it without being a superuser.
_NO_OVERLAP = (
    "ALTER TABLE bookingseat ADD CONSTRAINT bookingseat_no_overlap EXCLUDE USING gist "
    "(interviewer WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (live)"
)


def upgrade() -> None:
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ends_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("uid", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interview.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uid"),
    )
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booking_interview_id"), ["interview_id"])
    op.create_table(
        "bookingseat",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=False),
        sa.Column("interviewer", sa.String(length=32), nullable=False),
        sa.Column("starts_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ends_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["booking_id"], ["booking.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("bookingseat", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bookingseat_booking_id"), ["booking_id"])
        batch_op.create_index(
            "ux_bookingseat_live_start",
            ["interviewer", "starts_at"],
            unique=True,
            sqlite_where=sa.text("live"),
            postgresql_where=sa.text("live"),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(_NO_OVERLAP)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bookingseat DROP CONSTRAINT bookingseat_no_overlap")
    with op.batch_alter_table("bookingseat", schema=None) as batch_op:
        batch_op.drop_index("ux_bookingseat_live_start")
        batch_op.drop_index(batch_op.f("ix_bookingseat_booking_id"))
    op.drop_table("bookingseat")
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booking_interview_id"))
    op.drop_table("booking")
