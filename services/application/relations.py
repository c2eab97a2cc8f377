"""Relations are granted, not self-declared (issue 13; RULES.md "Reach into a record").

An organisation stands in a relation to a doctor with a status: ``confirmed`` (it registered
the doctor, or the doctor or the directorate confirmed it: it reads the wider record),
``claimed`` (it recorded service for, or registered, a doctor someone else registered: it
records its own facts and reads back only those) or ``disputed`` (by the doctor: its facts
are flagged for the directorate and it records nothing more until the directorate
confirms). The status is a row written with the event that changes it; every change is an
event on the doctor's stream carrying internal ids only.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.base import Event
from events.relations import (
    IdentityConflictFlagged,
    IdentityConflictResolved,
    OrganisationConfirmed,
    OrganisationDisputed,
    OrganisationRelated,
)
from services.aggregates import DOCTOR
from services.application.messages import Envelope, Reply, created
from services.application.streams import run_command, transaction
from services.clock import today
from services.errors import NotFound
from services.store import relations as table


async def relate(
    conn: AsyncConnection, doctor_id: str, org_number: str, *, basis: str, status: str
) -> list[Event]:
    """The organisation's relation, if it has none yet: the row and the event saying so."""
    if not await table.add_relation(conn, doctor_id, org_number, basis=basis, status=status):
        return []
    return [
        OrganisationRelated(
            doctor_id=doctor_id,
            org_number=org_number,
            basis=basis,  # type: ignore[arg-type]
            status=status,  # type: ignore[arg-type]
            related_on=today(),
        )
    ]


async def flag_identity_conflicts(
    conn: AsyncConnection, doctor_id: str, national_id: str | None
) -> list[Event]:
    """A national identity number another record (or this one, differently) holds: both are
    kept and the conflict is recorded for the directorate; the caller learns nothing."""
    if national_id is None:
        return []
    flagged: list[Event] = []
    for other in await table.national_id_conflicts(conn, doctor_id, national_id):
        conflict_id = str(uuid.uuid4())
        await table.add_conflict(conn, conflict_id, doctor_id, other)
        flagged.append(
            IdentityConflictFlagged(
                doctor_id=doctor_id,
                conflict_id=conflict_id,
                other_doctor_id=other,
                field="national_id",
                flagged_on=today(),
            )
        )
    return flagged


async def append(
    conn: AsyncConnection, envelope: Envelope, doctor_id: str, events: list[Event]
) -> int:
    outcome = await run_command(
        conn,
        DOCTOR,
        doctor_id,
        expected_version=envelope.expected_version,
        decide=lambda _state, _version: events,
        metadata=envelope.metadata(),
    )
    return outcome.version


class RelationHandlers:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def confirm(self, doctor_id: str, org_number: str, by: str, envelope: Envelope) -> Reply:
        event = OrganisationConfirmed(
            doctor_id=doctor_id,
            org_number=org_number,
            confirmed_by=by,  # type: ignore[arg-type]
            confirmed_on=today(),
        )
        return await self._change(doctor_id, org_number, "confirmed", event, None, envelope)

    async def dispute(
        self, doctor_id: str, org_number: str, reason: str, envelope: Envelope
    ) -> Reply:
        event = OrganisationDisputed(
            doctor_id=doctor_id, org_number=org_number, reason=reason, disputed_on=today()
        )
        return await self._change(doctor_id, org_number, "disputed", event, reason, envelope)

    async def _change(
        self,
        doctor_id: str,
        org_number: str,
        status: str,
        event: Event,
        reason: str | None,
        envelope: Envelope,
    ) -> Reply:
        async def work(conn: AsyncConnection) -> Reply:
            if await table.status_of(conn, doctor_id, org_number) is None:
                raise NotFound(
                    f"org_number: organisation {org_number} has no relation to this doctor",
                    field="org_number",
                )
            await table.set_status(conn, doctor_id, org_number, status, reason)
            version = await append(conn, envelope, doctor_id, [event])
            body = {
                "doctor_id": doctor_id,
                "org_number": org_number,
                "status": status,
                "version": version,
            }
            return created(body, version=version, status=200)

        return await transaction(self._engine, envelope, work)

    async def resolve(self, conflict_id: str, reason: str, envelope: Envelope) -> Reply:
        """The directorate resolves a conflicting identity; the reason is recorded."""

        async def work(conn: AsyncConnection) -> Reply:
            doctor_id = await table.resolve_conflict(conn, conflict_id, reason)
            if doctor_id is None:
                raise NotFound(
                    f"conflict_id: no open identity conflict {conflict_id}", field="conflict_id"
                )
            event = IdentityConflictResolved(
                doctor_id=doctor_id, conflict_id=conflict_id, reason=reason, resolved_on=today()
            )
            version = await append(conn, envelope, doctor_id, [event])
            body = {"conflict_id": conflict_id, "doctor_id": doctor_id, "status": "resolved"}
            return created(body, version=version, status=200)

        return await transaction(self._engine, envelope, work)
