"""the catalog as users browse and manage it: delisted instruments are archived, not deleted;
a datastream records where it comes from (a source URL or topic)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instruments") as batch_op:
        batch_op.add_column(
            sa.Column("archived", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("datastreams") as batch_op:
        batch_op.add_column(sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("datastreams") as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("instruments") as batch_op:
        batch_op.drop_column("archived")
