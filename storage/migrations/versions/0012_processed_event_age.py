"""processed inbound keys indexed by age: the tick prunes them every minute

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_processedevent_created_at"), ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processedevent_created_at"))
