"""The last two read-model tables whose DDL lived in their projections (issue 11: the DDL
lives in the migrations only): ``part1_completions`` (the part-1 message's once-only record)
and ``stream_summaries`` (the simplest projection: a row per stream). Both projections now
build a rebuild's fresh copy like every other, ``LIKE`` the live table.

``IF NOT EXISTS``: a database that ran the projector before this migration has both tables
already, in exactly this shape (the projections created them on start).
"""

from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    # What the two projections created on start: the same columns, types and keys.
    op.execute(
        "CREATE TABLE IF NOT EXISTS part1_completions ("
        " doctor_id text PRIMARY KEY, approved_on date NOT NULL, position bigint NOT NULL)"
    )
    op.execute(
        "CREATE TABLE IF NOT EXISTS stream_summaries ("
        " stream_id text PRIMARY KEY, stream_type text NOT NULL, version integer NOT NULL,"
        " event_count integer NOT NULL, last_type text NOT NULL, last_position bigint NOT NULL)"
    )


def downgrade() -> None:
    # The projections no longer create these tables, so a downgrade keeps them: dropping
    # them would leave 0011's projectors without their tables.
    pass
