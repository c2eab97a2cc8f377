"""The training year's writes that carry personal data (issue 15): a supervision meeting's
notes go to ``meeting_notes`` in the same transaction as the event that names the meeting,
never into the event. Every other training command goes through
:meth:`DoctorHandlers.handle` like any doctor command."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.doctor.commands import RecordEducationPlan, RecordSupervisionMeeting
from domain.doctor.training_records import plan_version
from services.application.doctors import DoctorHandlers
from services.application.messages import Envelope, Reply, created
from services.application.streams import transaction
from services.store import meeting_notes


class TrainingHandlers(DoctorHandlers):
    async def record_meeting(
        self,
        command: RecordSupervisionMeeting,
        notes: str | None,
        envelope: Envelope,
        echo: Mapping[str, object],
    ) -> Reply:
        async def work(conn: AsyncConnection) -> Reply:
            version = (await self._run(conn, command, envelope)).version
            if notes:
                await meeting_notes.add_notes(conn, command.doctor_id, command.meeting_id, notes)
            body = {**echo, "doctor_id": command.doctor_id, "version": version}
            return created(body, version=version)

        return await transaction(self._engine, envelope, work)

    async def record_plan(self, command: RecordEducationPlan, envelope: Envelope) -> Reply:
        """R17: a new version of the plan; the answer names the ``plan_version`` the
        decision gave it."""

        async def work(conn: AsyncConnection) -> Reply:
            outcome = await self._run(conn, command, envelope)
            body = {
                "doctor_id": command.doctor_id,
                "org_number": command.org_number,
                "plan_version": plan_version(outcome.state),
                "version": outcome.version,
            }
            return created(body, version=outcome.version)

        return await transaction(self._engine, envelope, work)
