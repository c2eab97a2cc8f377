"""The folded domain state of every doctor, organisation and catalogue, as read models.

Each row holds the state (msgpack of the domain Struct) at a stream version. The API reads
a row and, if the projection is behind the event store for that stream, folds the few
missing events on top: reads see every write that was acknowledged before them, while the
projection stays the source of read traffic. Progress itself is computed from the state at
read time, because it depends on the date asked for (``as_of``) and on today's date.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from events.base import Event, registry
from services.aggregates import CATALOGUE, DOCTOR, ORGANISATION, Aggregate
from services.store import eventstore
from services.store.eventstore import RecordedEvent

S = TypeVar("S")


# The read-model rows of folded states: one table per aggregate that has one, described by
# the same descriptor as its snapshots (services.aggregates).
StateTable = Aggregate
DOCTORS = DOCTOR
ORGANISATIONS = ORGANISATION
CATALOGUES = CATALOGUE
TABLES: dict[str, Aggregate[Any]] = {t.stream_type: t for t in (DOCTORS, ORGANISATIONS, CATALOGUES)}


def decode_event(event: RecordedEvent) -> Event:
    return registry.decode(event.type, event.schema_version, bytes(event.data))


def decode_state(table: StateTable[S], raw: bytes) -> S | None:
    """A row's state, or None when it was written in an older shape of the state (e.g.
    before ``doctor-3`` indexed assessments by objective): such a row is refolded from the
    store, like a snapshot of an older ``snapshot_schema`` (``kompetanse rebuild`` rewrites
    them all at once)."""
    try:
        return msgspec.msgpack.decode(raw, type=table.state_type)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


async def refold(conn: AsyncConnection, table: StateTable[S], stream_id: str, before: int) -> S:
    """The stream's state from its first event up to (not including) version ``before``."""
    state: S = table.initial()
    for event in await eventstore.load_stream(conn, stream_id):
        if event.version >= before:
            break
        state = table.evolve(state, decode_event(event))
    return state


async def apply(conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
    """Projector side: fold one event into its stream's row."""
    table = TABLES.get(event.stream_type)
    if table is None:
        return
    row = (
        await conn.execute(
            text(f"SELECT version, state FROM {table.table}{suffix} WHERE stream_id = :s"),
            {"s": event.stream_id},
        )
    ).first()
    state = decode_state(table, bytes(row.state)) if row is not None else table.initial()
    if state is None:
        state = await refold(conn, table, event.stream_id, event.version)
    state = table.evolve(state, decode_event(event))
    await conn.execute(
        text(
            f"INSERT INTO {table.table}{suffix} (key, stream_id, version, state, last_position) "
            "VALUES (:k, :s, :v, :st, :p) ON CONFLICT (stream_id) DO UPDATE SET "
            "version = excluded.version, state = excluded.state, "
            "last_position = excluded.last_position"
        ),
        {
            "k": table.key_of(event.stream_id),
            "s": event.stream_id,
            "v": event.version,
            "st": msgspec.msgpack.encode(state),
            "p": event.position,
        },
    )


async def apply_batch(conn: AsyncConnection, events: list[RecordedEvent], suffix: str) -> None:
    """Projector side, for a batch: read each touched row once, fold in memory, write each
    row once. Same result as :func:`apply` one event at a time, far fewer round trips."""
    by_table: dict[str, list[RecordedEvent]] = {}
    for event in events:
        if event.stream_type in TABLES:
            by_table.setdefault(event.stream_type, []).append(event)
    for stream_type, table_events in by_table.items():
        table = TABLES[stream_type]
        stream_ids = sorted({e.stream_id for e in table_events})
        rows = await conn.execute(
            text(f"SELECT stream_id, state FROM {table.table}{suffix} WHERE stream_id = ANY(:ids)"),
            {"ids": stream_ids},
        )
        folded: dict[str, Any] = {
            row.stream_id: decode_state(table, bytes(row.state)) for row in rows
        }
        last: dict[str, RecordedEvent] = {}
        for event in table_events:
            state = folded.get(event.stream_id)
            if state is None and event.stream_id in folded:  # a row of an older shape
                state = await refold(conn, table, event.stream_id, event.version)
            elif state is None:
                state = table.initial()
            folded[event.stream_id] = table.evolve(state, decode_event(event))
            last[event.stream_id] = event
        # One statement for all the rows (arrays), not one per row.
        await conn.execute(
            text(
                f"INSERT INTO {table.table}{suffix} (key, stream_id, version, state, "
                "last_position) SELECT * FROM unnest(CAST(:k AS text[]), CAST(:s AS text[]), "
                "CAST(:v AS int[]), CAST(:st AS bytea[]), CAST(:p AS bigint[])) "
                "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
                "state = excluded.state, last_position = excluded.last_position"
            ),
            {
                "k": [table.key_of(stream_id) for stream_id in last],
                "s": list(last),
                "v": [event.version for event in last.values()],
                "st": [msgspec.msgpack.encode(folded[stream_id]) for stream_id in last],
                "p": [event.position for event in last.values()],
            },
        )


async def read(conn: AsyncConnection, table: StateTable[S], stream_id: str) -> tuple[S, int]:
    """API side: the state at the event store's current version for the stream."""
    row = (
        await conn.execute(
            text(f"SELECT version, state FROM {table.table} WHERE stream_id = :s"),
            {"s": stream_id},
        )
    ).first()
    state: S = table.initial()
    version = 0
    decoded = decode_state(table, bytes(row.state)) if row is not None else None
    if row is not None and decoded is not None:  # else fold the whole stream
        state, version = decoded, row.version
    for event in await eventstore.load_stream(conn, stream_id, after_version=version):
        state = table.evolve(state, decode_event(event))
        version = event.version
    return state, version


async def read_many(
    conn: AsyncConnection, table: StateTable[S], stream_ids: list[str]
) -> list[tuple[S, int]]:
    """:func:`read` for many streams in two round trips (rows, then every missing tail)."""
    rows = await conn.execute(
        text(f"SELECT stream_id, version, state FROM {table.table} WHERE stream_id = ANY(:ids)"),
        {"ids": stream_ids},
    )
    found: dict[str, tuple[S, int]] = {}
    for row in rows:
        decoded = decode_state(table, bytes(row.state))
        if decoded is not None:  # else fold the whole stream
            found[row.stream_id] = (decoded, row.version)
    known = [(sid, found.get(sid, (table.initial(), 0))[1]) for sid in stream_ids]
    tails = await conn.execute(
        text(
            "SELECT e.stream_id, e.version, e.type, e.schema_version, e.data::text AS data "
            "FROM events e JOIN unnest(CAST(:ids AS text[]), CAST(:vs AS int[])) AS k(s, v) "
            "ON e.stream_id = k.s AND e.version > k.v ORDER BY e.stream_id, e.version"
        ),
        {"ids": [k for k, _ in known], "vs": [v for _, v in known]},
    )
    for row in tails:
        state, _ = found.get(row.stream_id, (table.initial(), 0))
        event = registry.decode(row.type, row.schema_version, row.data.encode())
        found[row.stream_id] = (table.evolve(state, event), row.version)
    return [found.get(sid, (table.initial(), 0)) for sid in stream_ids]
