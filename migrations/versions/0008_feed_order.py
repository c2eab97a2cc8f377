"""Feed order without a global lock: each event records its transaction's id.

The feed is ordered by (transaction_id, position), and readers follow it only below the
oldest transaction still in flight (``pg_snapshot_xmin``), so appends no longer take one
global lock and concurrent commits share WAL flushes (docs/architecture.md, "Ordering").
Events recorded before this revision keep transaction id 0: they were appended under the
global lock, so their positions alone are their order, and they all come before any new
one. Checkpoints gain the transaction id of the event they stand at (0 for the old ones).

The id is kept as bigint (``xid8`` through text): it is 64-bit and never wraps, and bigint
columns and parameters need no special codec.
"""

from alembic import op

revision = "0008"
down_revision = "0007"

_CURRENT_XACT_ID = "(pg_current_xact_id()::text)::bigint"


def upgrade() -> None:
    # A constant default first (no table rewrite, old rows read 0), then the real one.
    op.execute("ALTER TABLE events ADD COLUMN transaction_id bigint NOT NULL DEFAULT 0")
    op.execute(f"ALTER TABLE events ALTER COLUMN transaction_id SET DEFAULT {_CURRENT_XACT_ID}")
    op.execute("CREATE INDEX events_feed_order ON events (transaction_id, position)")
    for table in ("relay_checkpoints", "projection_checkpoints"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN transaction_id bigint NOT NULL DEFAULT 0")


def downgrade() -> None:
    for table in ("relay_checkpoints", "projection_checkpoints"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN transaction_id")
    op.execute("DROP INDEX events_feed_order")
    op.execute("ALTER TABLE events DROP COLUMN transaction_id")
