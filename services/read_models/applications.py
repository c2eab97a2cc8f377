"""The application queue: one row per application with its status, for caseworkers."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.application import ApplicationDecided, ApplicationSubmitted
from services.read_models.states import decode_event
from services.store.eventstore import RecordedEvent

TABLE = "application_queue"


async def apply(conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
    if event.stream_type != "application":
        return
    match decode_event(event):
        case ApplicationSubmitted() as submitted:
            await conn.execute(
                text(
                    f"INSERT INTO {TABLE}{suffix} (application_id, doctor_id, specialty, status,"
                    " submitted_on, last_transaction_id, last_position)"
                    " VALUES (:a, :d, :s, 'submitted', :on, :t, :p)"
                    " ON CONFLICT (application_id) DO NOTHING"
                ),
                {
                    "a": submitted.application_id,
                    "d": submitted.doctor_id,
                    "s": submitted.specialty,
                    "on": submitted.submitted_on,
                    "t": event.transaction_id,
                    "p": event.position,
                },
            )
        case ApplicationDecided() as decided:
            await conn.execute(
                text(
                    f"UPDATE {TABLE}{suffix} SET status = :st, decided_on = :on,"
                    " last_reason = :r, last_transaction_id = :t, last_position = :p"
                    " WHERE application_id = :a"
                ),
                {
                    "st": decided.outcome,
                    "on": decided.decided_on,
                    "r": decided.reason,
                    "t": event.transaction_id,
                    "p": event.position,
                    "a": decided.application_id,
                },
            )
