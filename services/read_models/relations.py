"""The read side of relations (issue 13): the doctor's list of organisations related to them
or claiming to be, the directorate's flags, and a claimed organisation's own facts."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncEngine

from services import aggregates
from services.read_models import states
from services.rows import struct_from_row
from services.store import relations as table


class RelationOut(msgspec.Struct, kw_only=True):
    org_number: str
    name: str | None
    basis: str
    status: str
    since: str
    status_since: str
    dispute_reason: str | None = None


class DisputedRelation(msgspec.Struct, kw_only=True):
    doctor_id: str
    org_number: str
    basis: str
    since: str
    disputed_since: str
    reason: str | None


class IdentityConflict(msgspec.Struct, kw_only=True):
    conflict_id: str
    doctor_id: str
    other_doctor_id: str
    field: str
    flagged_on: str


class Flags(msgspec.Struct, kw_only=True):
    disputed_relations: list[DisputedRelation]
    identity_conflicts: list[IdentityConflict]


class ClaimedFacts(msgspec.Struct, kw_only=True):
    doctor_id: str
    org_number: str
    status: str
    periods: list[Any]
    absences: list[Any]
    confirmations: list[Any]
    supervisors: list[Any]
    assessments: list[Any]
    approvals: list[Any]
    supervision_hours: list[Any]


class RelationQueries:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def relations_of(self, doctor_id: str) -> list[RelationOut]:
        async with self._engine.connect() as conn:
            rows = await table.relations_of(conn, doctor_id)
            names = await aggregates.organisations(conn, {r.org_number for r in rows})
        return [
            struct_from_row(
                RelationOut,
                r,
                name=names[r.org_number].name if r.org_number in names else None,
                since=r.since.date().isoformat(),
                status_since=r.status_since.date().isoformat(),
            )
            for r in rows
        ]

    async def flags(self) -> Flags:
        async with self._engine.connect() as conn:
            disputed = await table.disputed(conn)
            conflicts = await table.open_conflicts(conn)
        return Flags(
            disputed_relations=[
                struct_from_row(
                    DisputedRelation,
                    r,
                    since=r.since.date().isoformat(),
                    disputed_since=r.status_since.date().isoformat(),
                    reason=r.dispute_reason,
                )
                for r in disputed
            ],
            identity_conflicts=[
                struct_from_row(IdentityConflict, r, flagged_on=r.flagged_at.date().isoformat())
                for r in conflicts
            ],
        )

    async def claimed_facts(
        self, doctor_id: str, own: Collection[str], acting: str
    ) -> ClaimedFacts:
        """The facts an organisation recorded itself, whatever its relation's status."""
        async with self._engine.connect() as conn:
            state, _ = await states.read(conn, states.DOCTORS, doctor_id)
            statuses = [await table.status_of(conn, doctor_id, o) for o in sorted(own)]
        periods = [v for v in state.periods.values() if v.org_number in own]
        ids = {v.period_id for v in periods}
        b = msgspec.to_builtins
        return ClaimedFacts(
            doctor_id=doctor_id,
            org_number=acting,
            status=next((s for s in ("confirmed", "claimed", "disputed") if s in statuses), ""),
            periods=b(periods),
            absences=b([a for a in state.absences.values() if a.period_id in ids]),
            confirmations=b([c for k, c in state.confirmations.items() if k in ids]),
            supervisors=b([s for s in state.supervisors if s.org_number in own]),
            assessments=[
                # As fields by name (the state stores it as an array), without its ordering.
                b({k: v for k, v in msgspec.structs.asdict(a).items() if k != "seq"})
                for a in state.all_assessments()
                if a.org_number in own
            ],
            approvals=b([a for a in state.approvals if a.org_number in own]),
            supervision_hours=b(
                [h for h in state.supervision_hours.values() if h.org_number in own]
            ),
        )
