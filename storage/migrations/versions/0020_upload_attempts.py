"""when delivery began uploading each answer's recording, so a retry after a crash looks
in the thread before uploading it again

Revision ID: 0020_upload_attempts
Revises: 0019_ats_sync
Create Date: 2026-11-28 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020_upload_attempts"
down_revision: str | None = "0019_ats_sync"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("threadmessage", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("uploading_since", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("threadmessage", schema=None) as batch_op:
        batch_op.drop_column("uploading_since")
