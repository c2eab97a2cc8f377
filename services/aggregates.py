"""One descriptor per aggregate, and its repository: how a stream's state is named, folded,
snapshotted (write side) and kept as a read-model row (read side). The ``schema`` names the
state's shape: a snapshot or read-model row of another shape is ignored and refolded.

Stream ids are unique across stream types: an organisation's is ``org-<org number>``, the
catalogue's ``catalogue-<id>``; a doctor's and an application's are their uuids.

Loading is cheap whatever the history: the snapshot (``stream_snapshots``, written in the
same transaction as the events) plus the events after it. The snapshot is written every
``snapshot_every`` events, not on every write: re-encoding and rewriting a long record's
whole state on each write would make writes dearer as the history grows, while a tail of
fewer than ``snapshot_every`` events is cheap to fold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import application, catalogue, organisation
from domain.doctor import state as doctor
from events.base import Event, registry
from services.state_cache import KeptState, Key, StateCache
from services.store import eventstore
from services.store.eventstore import RecordedEvent

S = TypeVar("S")


def _same(stream_id: str) -> str:
    return stream_id


def copy_of(table: str, suffix: str) -> str:
    """A fresh table shaped like ``table`` (columns, keys, indexes): the tables themselves
    are created by the migrations only, and a rebuild fills copies of them."""
    return f"CREATE TABLE IF NOT EXISTS {table}{suffix} (LIKE {table} INCLUDING ALL)"


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    stream_type: str
    state_type: type[S]
    initial: Callable[[], S]
    evolve: Callable[[S, Any], S]
    snapshot_schema: str  # change it whenever the state's shape changes
    table: str = ""  # its read-model table of folded states, if it has one
    key_of: Callable[[str], str] = _same  # stream id -> the row's key in ``table``

    def fold(self, state: S, events: Sequence[Event]) -> S:
        for event in events:
            state = self.evolve(state, event)
        return state

    def ddl(self, suffix: str) -> str:
        return copy_of(self.table, suffix)


ORGANISATION = Aggregate(
    stream_type="organisation",
    state_type=organisation.OrganisationState,
    initial=organisation.OrganisationState,
    evolve=organisation.evolve,
    snapshot_schema="organisation-2",
    table="organisation_states",
    key_of=lambda stream_id: stream_id.removeprefix("org-"),
)
DOCTOR = Aggregate(
    stream_type="doctor",
    state_type=doctor.DoctorState,
    initial=doctor.DoctorState,
    evolve=doctor.evolve,
    snapshot_schema="doctor-3",  # 3: assessments indexed by objective
    table="doctor_states",
)
CATALOGUE = Aggregate(
    stream_type="catalogue",
    state_type=catalogue.Catalogue,
    initial=catalogue.Catalogue,
    evolve=catalogue.evolve,
    snapshot_schema="catalogue-1",
    table="catalogue_states",
    key_of=lambda stream_id: stream_id.removeprefix("catalogue-"),
)
APPLICATION = Aggregate(
    stream_type="application",
    state_type=application.ApplicationState,
    initial=application.ApplicationState,
    evolve=application.evolve,
    snapshot_schema="application-1",
)

CATALOGUE_ID = "annex2"


def organisation_stream(org_number: str) -> str:
    return f"org-{org_number}"


def catalogue_stream(catalogue_id: str = CATALOGUE_ID) -> str:
    return f"catalogue-{catalogue_id}"


def decode(event: RecordedEvent) -> Event:
    return registry.decode(event.type, event.schema_version, bytes(event.data))


# Write a stream's snapshot once this many events are folded on top of the last one
# (KOMPETANSE_SNAPSHOT_EVERY; services.bootstrap sets it from the settings).
DEFAULT_SNAPSHOT_EVERY = 32
snapshot_every = DEFAULT_SNAPSHOT_EVERY
# States this process loaded, for its next write of the same stream (services.state_cache;
# services.bootstrap sizes it from KOMPETANSE_STATE_CACHE_SIZE).
recent_states = StateCache()


def snapshot_due(since_snapshot: int, appended: int) -> bool:
    """After appending ``appended`` events to a stream loaded with ``since_snapshot`` events
    on top of its snapshot: is it time to write a new one?"""
    return appended > 0 and since_snapshot + appended >= snapshot_every


async def load(conn: AsyncConnection, aggregate: Aggregate[S], stream_id: str) -> tuple[S, int]:
    state, version, _ = await load_since_snapshot(conn, aggregate, stream_id)
    return state, version


async def load_since_snapshot(
    conn: AsyncConnection, aggregate: Aggregate[S], stream_id: str
) -> tuple[S, int, int]:
    """The state, its version, and how many events were folded on top of the snapshot.
    A state this process loaded before is taken from ``recent_states`` instead of the
    snapshot when the store still holds the event it was folded to."""
    key = (_store_of(conn), aggregate.snapshot_schema, stream_id)
    kept = recent_states.get(key)
    if kept is not None:
        loaded = await _load_after_kept(conn, aggregate, key, kept)
        if loaded is not None:
            return loaded
        recent_states.forget(key)
    row = (
        await conn.execute(
            text("SELECT version, state, schema FROM stream_snapshots WHERE stream_id = :s"),
            {"s": stream_id},
        )
    ).first()
    state, version = aggregate.initial(), 0
    if row is not None and row.schema == aggregate.snapshot_schema:
        state = msgspec.msgpack.decode(bytes(row.state), type=aggregate.state_type)
        version = row.version
    tail = await eventstore.load_stream(conn, stream_id, after_version=version)
    state = aggregate.fold(state, [decode(e) for e in tail])
    if tail:
        recent_states.keep(key, KeptState(tail[-1].version, tail[-1].event_id, state))
    return state, version + len(tail), len(tail)


async def _load_after_kept(
    conn: AsyncConnection, aggregate: Aggregate[S], key: Key, kept: KeptState
) -> tuple[S, int, int] | None:
    """The kept state with the events after it, or None if the store no longer holds the
    event it was folded to (restored or recreated since)."""
    stream_id = key[2]
    events = await eventstore.load_stream(conn, stream_id, after_version=kept.version - 1)
    if not events or events[0].event_id != kept.event_id:
        return None
    tail = events[1:]
    state: S = aggregate.fold(kept.state, [decode(e) for e in tail])
    version = kept.version + len(tail)
    if tail:
        recent_states.keep(key, KeptState(version, tail[-1].event_id, state))
    snapshot_version = (
        await conn.execute(
            text("SELECT version FROM stream_snapshots WHERE stream_id = :s AND schema = :sc"),
            {"s": stream_id, "sc": aggregate.snapshot_schema},
        )
    ).scalar()
    return state, version, version - (snapshot_version or 0)


def _store_of(conn: AsyncConnection) -> str:
    """Which event store: a (stream, version) names the same events only within one."""
    return conn.engine.url.render_as_string(hide_password=True)


async def save_snapshot(
    conn: AsyncConnection, aggregate: Aggregate[S], stream_id: str, version: int, state: S
) -> None:
    await conn.execute(
        text(
            "INSERT INTO stream_snapshots (stream_id, version, state, schema) "
            "VALUES (:s, :v, :st, :sc) ON CONFLICT (stream_id) DO UPDATE SET "
            "version = excluded.version, state = excluded.state, schema = excluded.schema"
        ),
        {
            "s": stream_id,
            "v": version,
            "st": msgspec.msgpack.encode(state),
            "sc": aggregate.snapshot_schema,
        },
    )


# The catalogue is large and changes rarely, so each process keeps the folded state and
# refreshes it when the catalogue stream's version moves. Keyed by database and stream
# (see _store_of).
_catalogue_cache: dict[tuple[str, str], tuple[int, catalogue.Catalogue]] = {}


async def current_catalogue(conn: AsyncConnection) -> catalogue.Catalogue:
    state, _ = await current_catalogue_at(conn)
    return state


async def current_catalogue_at(conn: AsyncConnection) -> tuple[catalogue.Catalogue, int]:
    """The current catalogue and the version of its stream it was folded at."""
    stream_id = catalogue_stream()
    version = await eventstore.stream_version(conn, stream_id)
    key = (_store_of(conn), stream_id)
    cached = _catalogue_cache.get(key)
    if cached is not None and cached[0] == version:
        return cached[1], version
    state, version = await load(conn, CATALOGUE, stream_id)
    _catalogue_cache[key] = (version, state)
    return state, version


async def organisations(
    conn: AsyncConnection, org_numbers: set[str]
) -> dict[str, organisation.OrganisationState]:
    """The registered organisations among ``org_numbers`` (context of an approval)."""
    found = {}
    for org_number in sorted(org_numbers):
        state, _ = await load(conn, ORGANISATION, organisation_stream(org_number))
        if state.registered:
            found[org_number] = state
    return found


async def doctor_organisations(
    conn: AsyncConnection, state: doctor.DoctorState
) -> dict[str, organisation.OrganisationState]:
    """The institutions of the doctor's service periods: R16 asks whether each was
    registered for the specialty on the service's dates."""
    wanted = {p.org_number for p in state.periods.values()}
    return await organisations(conn, wanted) if wanted else {}
