"""Relations are granted, not self-declared; conflicting identities are flagged, never
blocking (issue 13).

``doctor_organisations`` gets a status: ``confirmed`` (registered the doctor, or confirmed by
the doctor or the directorate), ``claimed`` (recorded service for a doctor someone else
registered) or ``disputed`` (by the doctor). Rows from before are relations that already
existed and stay ``confirmed``. The national identity number is no longer unique: a second
registration with it is kept and flagged in ``identity_conflicts`` for the directorate.
"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE doctor_organisations
            ADD COLUMN status text NOT NULL DEFAULT 'confirmed'
                CHECK (status IN ('confirmed', 'claimed', 'disputed')),
            ADD COLUMN basis text NOT NULL DEFAULT 'service_period'
                CHECK (basis IN ('registration', 'service_period')),
            ADD COLUMN status_since timestamptz NOT NULL DEFAULT now(),
            ADD COLUMN dispute_reason text
        """
    )
    op.execute("ALTER TABLE people DROP CONSTRAINT people_national_id_key")
    op.execute("CREATE INDEX people_by_national_id ON people (national_id)")
    op.execute(
        """
        CREATE TABLE identity_conflicts (
            conflict_id     text PRIMARY KEY,
            doctor_id       text NOT NULL,
            other_doctor_id text NOT NULL,
            field           text NOT NULL CHECK (field IN ('hpr_number', 'national_id')),
            flagged_at      timestamptz NOT NULL DEFAULT now(),
            resolved_at     timestamptz,
            resolution      text
        )
        """
    )
    op.execute(
        "CREATE INDEX identity_conflicts_open ON identity_conflicts (flagged_at) "
        "WHERE resolved_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TABLE identity_conflicts")
    op.execute("DROP INDEX people_by_national_id")
    op.execute("ALTER TABLE people ADD CONSTRAINT people_national_id_key UNIQUE (national_id)")
    op.execute(
        "ALTER TABLE doctor_organisations DROP COLUMN status, DROP COLUMN basis, "
        "DROP COLUMN status_since, DROP COLUMN dispute_reason"
    )
