"""``meeting_notes``: the notes of supervision meetings, kept apart from the events because
they are free text about the doctor (personal data). Written in the same transaction as the
``doctor.supervision_meeting_held`` event; erased with the doctor's personal data."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


async def add_notes(conn: AsyncConnection, doctor_id: str, meeting_id: str, notes: str) -> None:
    await conn.execute(
        text("INSERT INTO meeting_notes (meeting_id, doctor_id, notes) VALUES (:m, :d, :n)"),
        {"m": meeting_id, "d": doctor_id, "n": notes},
    )


async def erase_notes(conn: AsyncConnection, doctor_id: str) -> None:
    await conn.execute(
        text(
            "UPDATE meeting_notes SET notes = NULL, erased_at = coalesce(erased_at, now()) "
            "WHERE doctor_id = :d"
        ),
        {"d": doctor_id},
    )
