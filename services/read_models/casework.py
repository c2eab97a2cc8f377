"""What the caseworker's pages read (issue 15): the queue straight from the frozen bundles
and the latest decision of each (so an application shows the moment it is submitted or
decided), every decision with its reason, and the names of the organisations a bundle
names."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.aggregates import organisation_stream
from services.read_models import states
from services.store import relations as relation_table
from services.store import sql

_QUEUE = text(
    """
    SELECT q.* FROM (
        SELECT b.application_id, b.doctor_id,
               convert_from(b.bundle, 'UTF8')::jsonb ->> 'specialty' AS specialty,
               (convert_from(b.bundle, 'UTF8')::jsonb ->> 'submitted_on')::date AS submitted_on,
               coalesce((SELECT e.data ->> 'outcome' FROM events e
                         WHERE e.stream_id = b.application_id AND e.type = 'application.decided'
                         ORDER BY e.version DESC LIMIT 1), 'submitted') AS status,
               p.name
        FROM application_bundles b LEFT JOIN people p ON p.doctor_id = b.doctor_id
    ) q
    WHERE (CAST(:status AS text) IS NULL OR q.status = :status)
      AND (CAST(:specialty AS text) IS NULL OR q.specialty = :specialty)
    ORDER BY q.submitted_on {direction}, q.application_id
    LIMIT 500
    """
)
_DECISIONS = (
    "SELECT data ->> 'outcome' AS outcome, data ->> 'reason' AS reason, "
    "data ->> 'decided_on' AS decided_on FROM events "
    "WHERE stream_id = :a AND type = 'application.decided' ORDER BY version"
)


@dataclass(frozen=True)
class QueueRow:
    application_id: str
    doctor_id: str
    name: str | None
    specialty: str
    submitted_on: datetime.date
    status: str


class CaseworkReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def queue(
        self, status: str | None, specialty: str | None, newest_first: bool
    ) -> list[QueueRow]:
        query = text(_QUEUE.text.format(direction="DESC" if newest_first else "ASC"))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query, {"status": status, "specialty": specialty})).all()
        return [QueueRow(**r._mapping) for r in rows]  # the query's columns are its fields

    async def decisions(self, application_id: str) -> list[dict[str, Any]]:
        async with self._engine.connect() as conn:
            rows = await sql.rows(conn, _DECISIONS, {"a": application_id})
        return [
            {"outcome": r.outcome, "reason": r.reason, "decided_on": r.decided_on} for r in rows
        ]

    async def organisation_names(self, org_numbers: set[str]) -> dict[str, str]:
        async with self._engine.connect() as conn:
            found = await states.read_many(
                conn, states.ORGANISATIONS, [organisation_stream(o) for o in sorted(org_numbers)]
            )
        return {o.org_number: o.name for o, _ in found if o.name}

    async def organisations_of(self, doctor_id: str) -> list[tuple[str, datetime.date]]:
        """The organisations with access to the doctor's record (``doctor_organisations``),
        with the day since when."""
        async with self._engine.connect() as conn:
            rows = await relation_table.relations_of(conn, doctor_id)
        return [(r.org_number, r.since.date()) for r in rows]

    async def institutions(self, specialty: str | None, on: datetime.date) -> list[dict[str, Any]]:
        """R16: every registered organisation with its registrations as utdanningsvirksomhet
        (those for ``specialty`` only, and only organisations with one, when it is given)."""
        async with self._engine.connect() as conn:
            streams = await sql.column(
                conn,
                "SELECT DISTINCT stream_id FROM events "
                "WHERE type = 'organisation.registered' ORDER BY stream_id",
            )
            found = await states.read_many(conn, states.ORGANISATIONS, streams)
        out = []
        for org, _ in sorted(found, key=lambda f: f[0].org_number):
            registrations = [
                {
                    "registration_id": x.registration_id,
                    "specialty": x.specialty,
                    "valid_from": x.valid_from,
                    "valid_to": x.last_day(),
                    "valid_now": x.valid_on(on),
                }
                for x in sorted(org.registrations.values(), key=lambda x: x.valid_from)
                if specialty is None or x.specialty == specialty
            ]
            if specialty is not None and not registrations:
                continue
            out.append(
                {
                    "org_number": org.org_number,
                    "name": org.name,
                    "kind": org.kind,
                    "registrations": registrations,
                }
            )
        return out
