"""user sessions that end, and a login lockout

Revision ID: 5a7c1e9d3b21
Revises: eeb3bfff548e
Create Date: 2026-12-01 10:00:00.000000

Each account gets a session token (part of its Flask-Login id, renewed by logout, a new password
and deactivation, so that older cookies stop working) and a count of failed logins with the time
its lockout ends. Existing accounts get a random token, so everyone logs in once more.
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "5a7c1e9d3b21"
down_revision = "eeb3bfff548e"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    user = sa.table("user", sa.column("id", sa.Integer), sa.column("session_token", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(user.c.id)).all():
        connection.execute(
            user.update()
            .where(user.c.id == user_id)
            .values(session_token=secrets.token_urlsafe(24))
        )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("failed_logins", existing_type=sa.Integer(), server_default=None)


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("session_token")
