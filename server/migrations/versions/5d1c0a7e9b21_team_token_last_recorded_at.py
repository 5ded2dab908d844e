"""team_token.last_recorded_at: a device's recorded times only move forward

Revision ID: 5d1c0a7e9b21
Revises: eeb3bfff548e
Create Date: 2026-12-02 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "5d1c0a7e9b21"
down_revision = "5a7c1e9d3b21"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("team_token", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_recorded_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("team_token", schema=None) as batch_op:
        batch_op.drop_column("last_recorded_at")
