"""Handlers of the institutions' and the directorate's registers: organisations (leaders,
delegations) and the objective catalogue. Each: one transaction, idempotency key, reply."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from domain import catalogue as catalogue_domain
from domain import organisation as org_domain
from domain.identifiers import check_org_number
from services.aggregates import (
    CATALOGUE,
    ORGANISATION,
    catalogue_stream,
    organisation_stream,
)
from services.application.authority import issuer_of, own_org_numbers
from services.application.messages import Envelope, Reply, created
from services.application.streams import write_one
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
        # RULES.md authority: the directorate registers, the organisation appoints.
        issuer = issuer_of(envelope.principal)
        own = command.org_number in own_org_numbers(issuer)

        return await write_one(
            self._engine,
            envelope,
            ORGANISATION,
            organisation_stream(command.org_number),
            lambda state, _version: org_domain.decide(
                command,
                state,
                issuer_kind=issuer.kind,
                issuer_org=command.org_number if own else issuer.org_number,
            ),
            lambda outcome: created(echo, version=outcome.version, status=status),
        )

    async def publish_catalogue(
        self, command: catalogue_domain.PublishCatalogueVersion, envelope: Envelope
    ) -> Reply:
        body = {"catalogue_version": command.version, "objectives": len(command.objectives)}
        return await write_one(
            self._engine,
            envelope,
            CATALOGUE,
            catalogue_stream(command.catalogue_id),
            lambda state, _version: catalogue_domain.decide(command, state),
            lambda outcome: created(body, version=outcome.version),
        )
