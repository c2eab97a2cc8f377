"""Dead letters: events the relay could not publish (or a projection could not apply),
kept until an operator acknowledges them (``kompetanse dead-letters``).
"""

from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS dead_letters (
            id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            consumer        text        NOT NULL,
            position        bigint      NOT NULL,
            event_id        uuid        NOT NULL,
            stream_type     text        NOT NULL,
            stream_id       text        NOT NULL,
            type            text        NOT NULL,
            reason          text        NOT NULL,
            dead_at         timestamptz NOT NULL DEFAULT now(),
            acknowledged_at timestamptz,
            acknowledged_by text,
            UNIQUE (consumer, position)
        )
        """
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS dead_letters_open ON dead_letters (dead_at) "
        "WHERE acknowledged_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE dead_letters")
