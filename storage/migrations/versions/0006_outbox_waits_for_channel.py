"""outbox rows wait for a Slack channel; channel problems reported once

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channelproblem",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("problem", sa.String(length=32), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel"),
    )
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting_for_channel", sa.String(length=32), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outboxmessage_waiting_for_channel"),
            ["waiting_for_channel"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxmessage_waiting_for_channel"))
        batch_op.drop_column("waiting_for_channel")
    op.drop_table("channelproblem")
