"""Handlers of the application for specialist approval (R6, R7): submission decides on the
doctor's write-side state (never a read model) and freezes the evidence bundle in the same
transaction; the caseworker's decision."""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain import application as application_domain
from domain import progress as progress_domain
from domain.rejection import reject
from services import aggregates as context_loaders
from services.aggregates import APPLICATION, DOCTOR
from services.application import bundle as bundle_model
from services.application.messages import Envelope, Reply, created
from services.application.streams import load, run_command, transaction, write_one
from services.errors import CommandRejected
from services.store import people


class ApplicationHandlers:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def submit(
        self,
        application_id: str,
        doctor_id: str,
        specialty: str,
        on: date,
        envelope: Envelope,
    ) -> Reply:
        async def work(conn: AsyncConnection) -> Reply:
            state, _ = await load(conn, DOCTOR, doctor_id)
            catalogue = await context_loaders.current_catalogue(conn)
            organisations = await context_loaders.doctor_organisations(conn, state)  # R16
            readiness = progress_domain.readiness(
                state, catalogue, specialty, on, organisations=organisations
            )
            if not readiness.ready:
                raise CommandRejected(
                    reject(
                        "not_ready", "not ready for specialist approval; see blockers", rule="R6"
                    ),
                    blockers=[msgspec.to_builtins(b) for b in readiness.blockers],
                )
            progress = progress_domain.progress(
                state, catalogue, on, specialty=specialty, organisations=organisations
            )
            evidence = bundle_model.encode(
                bundle_model.build(application_id, specialty, on, state, catalogue, progress)
            )
            digest = bundle_model.content_hash(evidence)
            command = application_domain.SubmitApplication(
                application_id=application_id,
                doctor_id=doctor_id,
                specialty=specialty,
                submitted_on=on,
                content_hash=digest,
            )
            outcome = await run_command(
                conn,
                APPLICATION,
                application_id,
                expected_version=0,
                decide=lambda s, _v: application_domain.decide(command, s, readiness=readiness),
                metadata=envelope.metadata(),
            )
            await people.add_bundle(conn, application_id, doctor_id, digest, evidence)
            return created(
                {"application_id": application_id, "content_hash": digest, "status": "submitted"},
                version=outcome.version,
                location=f"/api/v1/applications/{application_id}",
            )

        return await transaction(self._engine, envelope, work)

    async def decide(
        self, command: application_domain.DecideApplication, envelope: Envelope
    ) -> Reply:
        return await write_one(
            self._engine,
            envelope,
            APPLICATION,
            command.application_id,
            lambda state, _version: application_domain.decide(command, state),
            lambda outcome: created(
                {"application_id": command.application_id, "status": outcome.state.status},
                version=outcome.version,
            ),
        )
