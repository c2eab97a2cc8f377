"""Handlers of the institutions' and the directorate's registers: organisations (leaders,
delegations) and the objective catalogue. Each: one transaction, idempotency key, reply."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain import catalogue as catalogue_domain
from domain import organisation as org_domain
from domain.identifiers import check_org_number
from services.aggregates import (
    CATALOGUE,
    ORGANISATION,
    catalogue_stream,
    organisation_stream,
)
from services.application.messages import Envelope, Reply, created
from services.application.streams import run_command, transaction
from services.errors import Invalid


def valid_org_number(value: str, field: str = "org_number") -> str:
    """The mod-11 check the schema cannot do."""
    reason = check_org_number(value)
    if reason is not None:
        raise Invalid(f"{field}: {reason}", field=field, code="invalid-org-number")
    return value


class InstitutionHandlers:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def organisation(
        self,
        command: org_domain.OrganisationCommand,
        envelope: Envelope,
        echo: Mapping[str, object],
        *,
        status: int = 201,
    ) -> Reply:
        if isinstance(command, org_domain.RegisterOrganisation):
            valid_org_number(command.org_number)

        async def work(conn: AsyncConnection) -> Reply:
            outcome = await run_command(
                conn,
                ORGANISATION,
                organisation_stream(command.org_number),
                expected_version=None,
                decide=lambda state, _version: org_domain.decide(command, state),
                metadata=envelope.metadata(),
            )
            return created(echo, version=outcome.version, status=status)

        return await transaction(self._engine, envelope, work)

    async def publish_catalogue(
        self, command: catalogue_domain.PublishCatalogueVersion, envelope: Envelope
    ) -> Reply:
        async def work(conn: AsyncConnection) -> Reply:
            outcome = await run_command(
                conn,
                CATALOGUE,
                catalogue_stream(command.catalogue_id),
                expected_version=None,
                decide=lambda state, _v: catalogue_domain.decide(command, state),
                metadata=envelope.metadata(),
            )
            body = {"catalogue_version": command.version, "objectives": len(command.objectives)}
            return created(body, version=outcome.version)

        return await transaction(self._engine, envelope, work)
