"""State the API workers share (issue 14: several API processes): the rate limit's token
buckets and the read-your-writes notes of the replica routing. Both are UNLOGGED: no WAL,
so no fsync per request; a PostgreSQL crash empties them (every bucket full again, and for
a moment a party's read may go to a replica that has not replayed its last write, within
the lag bound). Neither is replicated: both are read and written on the primary only.
"""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.execute(
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS rate_limit_buckets (
            party      text             PRIMARY KEY,
            tokens     double precision NOT NULL,
            granted    integer          NOT NULL,
            updated_at timestamptz      NOT NULL
        )
        """
    )
    op.execute(
        """
        CREATE UNLOGGED TABLE IF NOT EXISTS read_your_writes (
            party      text        PRIMARY KEY,
            lsn        pg_lsn      NOT NULL,
            noted_at   timestamptz NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS read_your_writes")
    op.execute("DROP TABLE IF EXISTS rate_limit_buckets")
