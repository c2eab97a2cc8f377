"""The caseworkers' queue pages in feed order: by the (transaction id, position) of the event
that last changed each row, not by its position alone.

Under the feed order of 0008 an event applied later can have a lower position than one
applied before it (positions are taken at INSERT, the feed follows transaction ids), so a
queue read in pages by ``last_position`` could miss an application that changed while it
was being read. The projector applies events in feed order, so a row changed after a page
was read always sorts after that page. Rows already there take the transaction id of the
event they name.
"""

from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.execute(
        "ALTER TABLE application_queue ADD COLUMN last_transaction_id bigint NOT NULL DEFAULT 0"
    )
    op.execute(
        "UPDATE application_queue q SET last_transaction_id = e.transaction_id "
        "FROM events e WHERE e.position = q.last_position"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS application_queue_in_feed_order "
        "ON application_queue (last_transaction_id, last_position)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS application_queue_in_feed_order")
    op.execute("ALTER TABLE application_queue DROP COLUMN last_transaction_id")
