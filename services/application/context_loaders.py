"""Read-only context a doctor's decision needs: the catalogue and the organisations named by
the command. The catalogue is large and changes rarely, so each process keeps the folded
state and refreshes it when the catalogue stream's version moves."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.catalogue import Catalogue
from domain.organisation import OrganisationState
from services.application.aggregates import (
    CATALOGUE,
    ORGANISATION,
    catalogue_stream,
    organisation_stream,
)
from services.application.streams import load
from services.store import eventstore

# Keyed by database and stream: a (stream, version) names the same events only within one
# event store.
_catalogue_cache: dict[tuple[str, str], tuple[int, Catalogue]] = {}


async def current_catalogue(conn: AsyncConnection) -> Catalogue:
    stream_id = catalogue_stream()
    version = await eventstore.stream_version(conn, stream_id)
    key = (conn.engine.url.render_as_string(hide_password=True), stream_id)
    cached = _catalogue_cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    state, version = await load(conn, CATALOGUE, stream_id)
    _catalogue_cache[key] = (version, state)
    return state


async def organisations(
    conn: AsyncConnection, org_numbers: set[str]
) -> dict[str, OrganisationState]:
    found = {}
    for org_number in sorted(org_numbers):
        state, _ = await load(conn, ORGANISATION, organisation_stream(org_number))
        if state.registered:
            found[org_number] = state
    return found
