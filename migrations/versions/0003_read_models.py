"""Read-model tables (the projectors fill them; a rebuild fills fresh copies made like them)."""

from alembic import op

revision = "0003"
down_revision = "0002"

STATE_TABLES = ("doctor_states", "organisation_states", "catalogue_states")


def upgrade() -> None:
    for table in STATE_TABLES:
        op.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            " key text PRIMARY KEY, stream_id text NOT NULL UNIQUE, version integer NOT NULL,"
            " state bytea NOT NULL, last_position bigint NOT NULL)"
        )
    op.execute(
        "CREATE TABLE IF NOT EXISTS application_queue ("
        " application_id text PRIMARY KEY, doctor_id text NOT NULL, specialty text NOT NULL,"
        " status text NOT NULL, submitted_on date NOT NULL, decided_on date,"
        " last_reason text, last_position bigint NOT NULL)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS application_queue_by_status "
        "ON application_queue (status, submitted_on, application_id)"
    )
    # The evidence bundle as it stood at submission: written once, with the event that
    # carries its hash, never changed.
    op.execute(
        """
        CREATE TABLE application_bundles (
            application_id text PRIMARY KEY,
            doctor_id      text NOT NULL,
            content_hash   text NOT NULL,
            bundle         bytea NOT NULL
        )
        """
    )
    op.execute(
        "CREATE TRIGGER application_bundles_append_only BEFORE UPDATE OR DELETE ON "
        "application_bundles FOR EACH ROW EXECUTE FUNCTION events_are_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE application_bundles")
    op.execute("DROP TABLE application_queue")
    for table in STATE_TABLES:
        op.execute(f"DROP TABLE {table}")
