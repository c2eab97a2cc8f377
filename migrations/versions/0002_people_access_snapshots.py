"""Personal data kept apart from events, the access log, write-side lookups and snapshots."""

from alembic import op

revision = "0002"
down_revision = "0001"


def _people() -> None:
    """Personal data and doctor-organisation relations."""
    # Personal data lives here, never in event payloads; erasing a person nulls the
    # identifying columns and keeps the row, so events and the access log stay intact.
    op.execute(
        """
        CREATE TABLE people (
            doctor_id   text PRIMARY KEY,
            hpr_number  text UNIQUE,
            national_id text UNIQUE,
            name        text,
            created_at  timestamptz NOT NULL DEFAULT now(),
            erased_at   timestamptz
        )
        """
    )
    # Which organisations a doctor belongs to (has or had a service period there): written
    # in the same transaction as the event, so authorisation never lags behind a write.
    op.execute(
        """
        CREATE TABLE doctor_organisations (
            doctor_id  text NOT NULL,
            org_number text NOT NULL,
            since      timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (doctor_id, org_number)
        )
        """
    )
    op.execute("CREATE INDEX doctor_organisations_by_org ON doctor_organisations (org_number)")


def _access_log() -> None:
    """Who reached which record (append-only)."""
    op.execute(
        """
        CREATE TABLE access_log (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at          timestamptz NOT NULL DEFAULT clock_timestamp(),
            doctor_id   text NOT NULL,
            actor_kind  text NOT NULL,
            actor_hpr   text,
            client_id   text,
            org_number  text,
            action      text NOT NULL,
            method      text NOT NULL,
            endpoint    text NOT NULL,
            status      smallint NOT NULL,
            request_id  text
        )
        """
    )
    op.execute("CREATE INDEX access_log_by_doctor ON access_log (doctor_id, id)")
    op.execute(
        "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
        "FOR EACH ROW EXECUTE FUNCTION events_are_append_only()"
    )


def _snapshots_and_proofs() -> None:
    """Snapshots of decision state; DPoP proof ids."""
    # The decision state of a stream at a version, so a write costs the same however long
    # the stream's history is. Always derivable from the events; safe to delete.
    op.execute(
        """
        CREATE TABLE stream_snapshots (
            stream_id text PRIMARY KEY,
            version   integer NOT NULL,
            state     bytea NOT NULL,
            schema    text NOT NULL
        )
        """
    )
    # DPoP proof ids seen, shared by every API instance (RFC 9449 replay protection).
    op.execute(
        """
        CREATE TABLE dpop_proofs_seen (
            jti        text PRIMARY KEY,
            expires_at timestamptz NOT NULL
        )
        """
    )


def upgrade() -> None:
    _people()
    _access_log()
    _snapshots_and_proofs()


def downgrade() -> None:
    for table in (
        "dpop_proofs_seen",
        "stream_snapshots",
        "access_log",
        "doctor_organisations",
        "people",
    ):
        op.execute(f"DROP TABLE {table}")
