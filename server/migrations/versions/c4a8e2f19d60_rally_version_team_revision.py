"""The rally's version (its domain model is cached per version) and the team's revision (an
event writes only over the state it read)

Revision ID: c4a8e2f19d60
Revises: b3e9d4a1c7f2
Create Date: 2026-11-30 03:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "c4a8e2f19d60"
down_revision = "b3e9d4a1c7f2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rally") as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("team") as batch_op:
        batch_op.add_column(
            sa.Column("revision", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("team") as batch_op:
        batch_op.drop_column("revision")
    with op.batch_alter_table("rally") as batch_op:
        batch_op.drop_column("version")
