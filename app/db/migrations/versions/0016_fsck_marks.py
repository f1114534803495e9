"""fsck marks catalog entries whose file is missing or differs, rather than deleting them

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("segments", "export_artifacts"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("broken_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    for table in ("export_artifacts", "segments"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("broken_reason")
