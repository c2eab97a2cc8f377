"""Supervision meeting notes (issue 15): free text about the doctor, so personal data, kept
out of the events like ``people`` and erased with it. The event
``doctor.supervision_meeting_held`` names the meeting by id and says whether notes exist.
"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS meeting_notes (
            meeting_id text        PRIMARY KEY,
            doctor_id  text        NOT NULL,
            notes      text,
            written_at timestamptz NOT NULL DEFAULT now(),
            erased_at  timestamptz
        )
        """
    )
    op.execute("CREATE INDEX IF NOT EXISTS meeting_notes_doctor ON meeting_notes (doctor_id)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS meeting_notes")
