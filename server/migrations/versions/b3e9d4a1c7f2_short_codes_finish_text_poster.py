"""Short codes of rally stops; the finish text and the poster colour and logo of a rally

Revision ID: b3e9d4a1c7f2
Revises: 8c4f2b1d6e07
Create Date: 2026-11-30 00:10:00.000000

"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "b3e9d4a1c7f2"
down_revision = "8c4f2b1d6e07"
branch_labels = None
depends_on = None

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def upgrade():
    with op.batch_alter_table("rally") as batch_op:
        batch_op.add_column(sa.Column("finish_text", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("poster_colour", sa.String(length=7), nullable=True))
        batch_op.add_column(sa.Column("poster_logo", sa.String(length=80), nullable=True))
    with op.batch_alter_table("rally_stop") as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=8), nullable=True))
    bind = op.get_bind()
    rallies = sa.table("rally", sa.column("finish_text", sa.JSON))
    bind.execute(rallies.update().values(finish_text={}))
    stops = sa.table("rally_stop", sa.column("id", sa.Integer), sa.column("code", sa.String))
    taken: set[str] = set()
    for (stop_id,) in bind.execute(sa.select(stops.c.id)).all():
        code = ""
        while not code or code in taken:
            code = "".join(secrets.choice(ALPHABET) for _ in range(6))
        taken.add(code)
        bind.execute(stops.update().where(stops.c.id == stop_id).values(code=code))
    with op.batch_alter_table("rally") as batch_op:
        batch_op.alter_column("finish_text", existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("rally_stop") as batch_op:
        batch_op.alter_column("code", existing_type=sa.String(length=8), nullable=False)
        batch_op.create_unique_constraint("uq_rally_stop_code", ["code"])


def downgrade():
    with op.batch_alter_table("rally_stop") as batch_op:
        batch_op.drop_constraint("uq_rally_stop_code", type_="unique")
        batch_op.drop_column("code")
    with op.batch_alter_table("rally") as batch_op:
        batch_op.drop_column("poster_logo")
        batch_op.drop_column("poster_colour")
        batch_op.drop_column("finish_text")
