"""Event store: append-only events, idempotency keys, relay and projection checkpoints."""

from alembic import op

revision = "0001"
down_revision = None


def _events() -> None:
    """The events table."""
    op.execute(
        """
        CREATE TABLE events (
            position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id       uuid        NOT NULL UNIQUE,
            stream_type    text        NOT NULL,
            stream_id      text        NOT NULL,
            version        integer     NOT NULL CHECK (version >= 1),
            type           text        NOT NULL,
            schema_version smallint    NOT NULL CHECK (schema_version >= 1),
            data           jsonb       NOT NULL,
            metadata       jsonb       NOT NULL DEFAULT '{}'::jsonb,
            recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
            CONSTRAINT events_stream_version UNIQUE (stream_id, version)
        )
        """
    )


def _append_only() -> None:
    """Triggers that refuse UPDATE, DELETE and TRUNCATE on events."""
    # The database itself refuses to rewrite history, whoever asks.
    op.execute(
        """
        CREATE FUNCTION events_are_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'events are append-only: % is refused', TG_OP
                USING ERRCODE = 'restrict_violation';
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE ON events "
        "FOR EACH ROW EXECUTE FUNCTION events_are_append_only()"
    )
    op.execute(
        "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events "
        "FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()"
    )


def _keys_and_checkpoints() -> None:
    """Idempotency keys and the relay and projection checkpoints."""
    op.execute(
        """
        CREATE TABLE idempotency_keys (
            principal    text        NOT NULL,
            key          text        NOT NULL,
            request_hash bytea       NOT NULL,
            status_code  smallint    NOT NULL,
            response     bytea       NOT NULL,
            headers      jsonb       NOT NULL DEFAULT '{}'::jsonb,
            created_at   timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (principal, key)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE relay_checkpoints (
            relay      text        PRIMARY KEY,
            position   bigint      NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE projection_checkpoints (
            projection text        PRIMARY KEY,
            position   bigint      NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )


def upgrade() -> None:
    _events()
    _append_only()
    _keys_and_checkpoints()


def downgrade() -> None:
    op.execute("DROP TABLE projection_checkpoints")
    op.execute("DROP TABLE relay_checkpoints")
    op.execute("DROP TABLE idempotency_keys")
    op.execute("DROP TABLE events")
    op.execute("DROP FUNCTION events_are_append_only()")
