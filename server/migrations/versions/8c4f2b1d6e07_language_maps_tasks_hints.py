"""Texts as language maps (de, en, de-x-ls); stop tasks and hints; step-free venues and who placed them

Revision ID: 8c4f2b1d6e07
Revises: 5d1c0a7e9b21
Create Date: 2026-11-29 22:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "8c4f2b1d6e07"
down_revision = "5d1c0a7e9b21"
branch_labels = None
depends_on = None

TEXTS = {"marker": ("title", "clue", "story"), "rally": ("title", "intro"), "rally_stop": ("clue",)}
LANGS = ("de", "en")


def _copy(table: str, names: tuple[str, ...], to_maps: bool) -> None:
    """Copy each text between its per-language columns and its language-map column."""
    bind = op.get_bind()
    flat = [f"{name}_{lang}" for name in names for lang in LANGS]
    cols = [sa.column("id", sa.Integer)]
    cols += [sa.column(name, sa.JSON) for name in names]
    cols += [sa.column(c, sa.Text) for c in flat]
    t = sa.table(table, *cols)
    source = flat if to_maps else list(names)
    for row in bind.execute(sa.select(t.c.id, *(t.c[c] for c in source))).mappings():
        if to_maps:
            values = {n: {lang: row[f"{n}_{lang}"] or "" for lang in LANGS} for n in names}
        else:
            values = {
                f"{n}_{lang}": (row[n] or {}).get(lang, "") for n in names for lang in LANGS
            }
        bind.execute(t.update().where(t.c.id == row["id"]).values(**values))


def upgrade():
    for table, names in TEXTS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))
        _copy(table, names, to_maps=True)
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                batch_op.alter_column(name, existing_type=sa.JSON(), nullable=False)
                for lang in LANGS:
                    batch_op.drop_column(f"{name}_{lang}")
    with op.batch_alter_table("rally_stop") as batch_op:
        batch_op.add_column(sa.Column("clue_from", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("task", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("hints", sa.JSON(), nullable=True))
    stops = sa.table("rally_stop", sa.column("hints", sa.JSON))
    op.get_bind().execute(stops.update().values(hints=[]))
    with op.batch_alter_table("rally_stop") as batch_op:
        batch_op.alter_column("hints", existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("venue") as batch_op:
        batch_op.add_column(sa.Column("step_free", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("placed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_venue_placed_by_id_user", "user", ["placed_by_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("team") as batch_op:
        batch_op.alter_column(
            "language", existing_type=sa.String(length=2), type_=sa.String(length=10)
        )
    op.create_table(
        "stop_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("marker_id", sa.Integer(), nullable=False),
        sa.Column("wrong", sa.Integer(), nullable=False),
        sa.Column("solved", sa.Boolean(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("hints", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["marker_id"], ["marker.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "marker_id"),
    )
    with op.batch_alter_table("stop_progress") as batch_op:
        batch_op.create_index(batch_op.f("ix_stop_progress_team_id"), ["team_id"], unique=False)


def downgrade():
    with op.batch_alter_table("stop_progress") as batch_op:
        batch_op.drop_index(batch_op.f("ix_stop_progress_team_id"))
    op.drop_table("stop_progress")
    with op.batch_alter_table("team") as batch_op:
        batch_op.alter_column(
            "language", existing_type=sa.String(length=10), type_=sa.String(length=2)
        )
    with op.batch_alter_table("venue") as batch_op:
        batch_op.drop_constraint("fk_venue_placed_by_id_user", type_="foreignkey")
        batch_op.drop_column("placed_by_id")
        batch_op.drop_column("step_free")
    with op.batch_alter_table("rally_stop") as batch_op:
        batch_op.drop_column("hints")
        batch_op.drop_column("task")
        batch_op.drop_column("clue_from")
    for table, names in TEXTS.items():
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                for lang in LANGS:
                    kind = sa.String(length=200) if name == "title" else sa.Text()
                    batch_op.add_column(
                        sa.Column(f"{name}_{lang}", kind, nullable=False, server_default="")
                    )
        _copy(table, names, to_maps=False)
        with op.batch_alter_table(table) as batch_op:
            for name in names:
                batch_op.drop_column(name)
