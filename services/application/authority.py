"""The issuer of a command, from the token (RULES.md "Who may record what"), and the
institutions a decision needs to judge it: the caller's own (arena and kind, R1) and those
the command names. The domain decides; this only gathers its inputs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.authority import DIRECTORATE_ISSUER, Issuer
from domain.organisation import OrganisationState
from services import aggregates as context_loaders


def issuer_of(principal: Any, doctor_id: str | None = None) -> Issuer:
    """Helsedirektoratet's caseworkers and admins act for the directorate; an organisation's
    client for its organisation (and its parent); a person for the doctor in the path."""
    if principal.kind in ("admin", "caseworker"):
        return Issuer(kind="directorate", hpr_number=principal.hpr_number)
    if principal.kind == "organisation":
        return Issuer(
            kind="organisation",
            org_number=principal.org_number,
            parent_org_number=principal.parent_org_number,
            hpr_number=principal.hpr_number,
        )
    return Issuer(kind="doctor", doctor_id=doctor_id, hpr_number=principal.hpr_number)


def own_org_numbers(issuer: Issuer) -> set[str]:
    return {o for o in (issuer.org_number, issuer.parent_org_number) if o}


async def organisations_for(
    conn: AsyncConnection, issuer: Issuer, extra: Iterable[str] = ()
) -> dict[str, OrganisationState]:
    """The registered organisations among the issuer's own and ``extra``."""
    wanted = own_org_numbers(issuer) | set(extra)
    return await context_loaders.organisations(conn, wanted) if wanted else {}


__all__ = ["DIRECTORATE_ISSUER", "Issuer", "issuer_of", "organisations_for", "own_org_numbers"]
