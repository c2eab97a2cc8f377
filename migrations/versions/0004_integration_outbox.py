"""Integration events for downstream registers (HPR): an outbox the projector fills exactly
once and a publisher drains to JetStream.
"""

from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS integration_outbox (
            message_id   text PRIMARY KEY,
            subject      text NOT NULL,
            payload      bytea NOT NULL,
            position     bigint NOT NULL,
            published_at timestamptz
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS integration_outbox_unpublished ON integration_outbox "
        "(position) WHERE published_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE integration_outbox")
