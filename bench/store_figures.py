"""Append figures without HTTP: the raw asyncpg ceiling, the event store alone, and the
``eventsourcing`` library's PostgreSQL persistence, with the same events (number and size)
on the same server and durability settings."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import uuid
from datetime import date
from typing import Any

import asyncpg

from bench.core import Figure, Options, Servers, latency, log
from bench.load import LoadResult, closed_loop, threaded_closed_loop

LEVELS = (1, 16, 64)
BATCH = 100


def sample_event() -> tuple[str, int, bytes, dict[str, Any]]:
    """One realistic event as the API stores it: an objective assessed by a veileder,
    with the metadata every write carries."""
    from events.base import registry
    from events.doctor import ObjectiveAssessed

    event = ObjectiveAssessed(
        doctor_id=str(uuid.uuid4()),
        objective_id="KLS-017",
        catalogue_version="2020-03",
        org_number="974589095",
        assessor_hpr="9000010",
        assessor_role="veileder",
        outcome="achieved",
        assessed_on=date(2025, 3, 14),
        method="direkte observasjon",
        comment="Gjennomført med god margin.",
    )
    metadata = {
        "actor": {
            "kind": "organisation",
            "client_id": "dev-organisation-974589095",
            "org_number": "974589095",
        },
        "request_id": str(uuid.uuid4()),
    }
    return (
        type(event).__struct_config__.tag,  # type: ignore[return-value]
        type(event).schema_version,
        registry.encode(event),
        metadata,
    )


def event_size() -> int:
    _, _, data, metadata = sample_event()
    return len(data) + len(json.dumps(metadata))


# Raw asyncpg: the ceiling ----------------------------------------------------------------------
RAW_INSERT = (
    "INSERT INTO raw_events (event_id, stream_type, stream_id, version, type, schema_version, "
    "data, metadata) VALUES ($1, 'doctor', $2, $3, $4, $5, $6::jsonb, $7::jsonb)"
)
RAW_INSERT_MANY = (
    "INSERT INTO raw_events (event_id, stream_type, stream_id, version, type, schema_version, "
    "data, metadata) SELECT e.id, 'doctor', $2, e.v, $3, $4, e.d::jsonb, e.m::jsonb "
    "FROM unnest($1::uuid[], $5::int[], $6::text[], $7::text[]) AS e(id, v, d, m)"
)


async def raw_ceiling(url: str, clients: int, seconds: float, batch: int = 1) -> LoadResult:
    """The same rows into an identical table (``LIKE events INCLUDING ALL``: same columns,
    defaults, identity, unique constraints and indexes), plain asyncpg, one transaction per
    request, no lock, no reading before writing."""
    type_, schema_version, data, metadata = sample_event()
    data_s, meta_s = data.decode(), json.dumps(metadata)
    conn = await asyncpg.connect(url)
    await conn.execute("DROP TABLE IF EXISTS raw_events")
    await conn.execute("CREATE TABLE raw_events (LIKE events INCLUDING ALL)")
    await conn.close()
    pool = await asyncpg.create_pool(url, min_size=clients, max_size=clients)
    streams = [f"raw-{uuid.uuid4()}" for _ in range(clients)]
    versions = [0] * clients
    try:

        async def op(i: int, _seq: int) -> int:
            async with pool.acquire() as c:
                if batch == 1:
                    versions[i] += 1
                    await c.execute(
                        RAW_INSERT,
                        uuid.uuid4(),
                        streams[i],
                        versions[i],
                        type_,
                        schema_version,
                        data_s,
                        meta_s,
                    )
                else:
                    first = versions[i] + 1
                    versions[i] += batch
                    await c.execute(
                        RAW_INSERT_MANY,
                        [uuid.uuid4() for _ in range(batch)],
                        streams[i],
                        type_,
                        schema_version,
                        list(range(first, first + batch)),
                        [data_s] * batch,
                        [meta_s] * batch,
                    )
            return batch

        return await closed_loop(clients, seconds, op)
    finally:
        await pool.close()


# The event store alone ---------------------------------------------------------------------------
async def store_append(url: str, clients: int, seconds: float, batch: int = 1) -> LoadResult:
    """``services.store.eventstore.append`` in its own transaction (SQLAlchemy engine, the
    expected-version check and the join of the feed included)."""
    from services.store import eventstore
    from services.store.database import create_engine
    from services.store.eventstore import NewEvent

    append = eventstore.append
    type_, schema_version, data, metadata = sample_event()
    engine = create_engine(url, pool_size=clients)
    streams = [str(uuid.uuid4()) for _ in range(clients)]
    versions = [0] * clients
    try:
        # Open the pool's connections before the clock starts.
        async def touch() -> None:
            async with engine.connect():
                await asyncio.sleep(0.05)

        await asyncio.gather(*(touch() for _ in range(clients)))

        async def op(i: int, _seq: int) -> int:
            events = [
                NewEvent(
                    event_id=uuid.uuid4(),
                    type=type_,
                    schema_version=schema_version,
                    data=data,
                    metadata=metadata,
                )
                for _ in range(batch)
            ]
            async with engine.begin() as conn:
                await append(
                    conn,
                    stream_type="doctor",
                    stream_id=streams[i],
                    expected_version=versions[i],
                    events=events,
                )
            versions[i] += batch
            return batch

        return await closed_loop(clients, seconds, op)
    finally:
        await engine.dispose()


# The eventsourcing library ------------------------------------------------------------------------
def eventsourcing_append(
    servers: Servers, dbname: str, clients: int, seconds: float, batch: int = 1
) -> LoadResult:
    """``eventsourcing``'s ``PostgresApplicationRecorder.insert_events`` (what an
    ``Application.save`` ends in): same event count and size; threads, as the library is
    synchronous (psycopg 3 pool)."""
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    type_, _schema_version, data, metadata = sample_event()
    state = data + json.dumps(metadata).encode()  # the library stores one opaque blob
    datastore = PostgresDatastore(
        dbname,
        "127.0.0.1",
        servers.pg.port,
        "postgres",
        "",
        pool_size=clients,
        max_overflow=0,
        max_waiting=clients,
    )
    recorder = PostgresApplicationRecorder(datastore, events_table_name="es_stored_events")
    recorder.create_table()
    streams = [uuid.uuid4() for _ in range(clients)]
    versions = [0] * clients

    def op(i: int, _seq: int) -> int:
        first = versions[i] + 1
        recorder.insert_events(
            [
                StoredEvent(
                    originator_id=streams[i],
                    originator_version=v,
                    topic=f"kompetanse.events:{type_}",
                    state=state,
                )
                for v in range(first, first + batch)
            ]
        )
        versions[i] += batch
        return batch

    try:
        return threaded_closed_loop(clients, seconds, op)
    finally:
        datastore.close()


Shape = tuple[int, int]  # (clients, events per append)
Runs = dict[Shape, list[LoadResult]]


async def run(servers: Servers, opts: Options) -> list[Figure]:
    """Ceiling, store and rival at each concurrency level, interleaved run by run so a slow
    moment of the machine hits all three alike."""
    levels = (1, 16) if opts.quick else LEVELS
    shapes = [(n, 1) for n in levels]
    if not opts.quick:
        shapes.append((16, BATCH))
    have_rival = importlib.util.find_spec("eventsourcing") is not None
    if not have_rival:
        log("eventsourcing is not installed (pip install 'eventsourcing[postgres]'): no rival")
    raw: Runs = {shape: [] for shape in shapes}
    store: Runs = {shape: [] for shape in shapes}
    es: Runs = {shape: [] for shape in shapes}
    for run_no in range(opts.runs):
        for shape in shapes:
            await _measure_once(servers, shape, opts.duration, have_rival, raw, store, es)
            log(
                f"append run {run_no + 1} clients={shape[0]} batch={shape[1]}: "
                f"raw {raw[shape][-1].units_per_s:.0f} ev/s, "
                f"store {store[shape][-1].units_per_s:.0f} ev/s, eventsourcing "
                f"{es[shape][-1].units_per_s if es[shape] else float('nan'):.0f} ev/s"
            )
    figures: list[Figure] = []
    for shape in shapes:
        figures += _figures(shape, raw[shape], store[shape], es[shape], opts.quick)
    return figures


async def _measure_once(
    servers: Servers,
    shape: Shape,
    seconds: float,
    have_rival: bool,
    raw: Runs,
    store: Runs,
    es: Runs,
) -> None:
    clients, batch = shape
    url = await servers.fresh_database("bench_store")
    raw[shape].append(await raw_ceiling(url, clients, seconds, batch))
    store[shape].append(await store_append(url, clients, seconds, batch))
    await servers.drop_database("bench_store")
    if have_rival:
        await servers.fresh_database("bench_es", migrate=False)
        es[shape].append(
            await asyncio.to_thread(
                eventsourcing_append, servers, "bench_es", clients, seconds, batch
            )
        )
        await servers.drop_database("bench_es")


def _figures(
    shape: Shape,
    raw: list[LoadResult],
    store: list[LoadResult],
    es: list[LoadResult],
    quick: bool,
) -> list[Figure]:
    """One shape's figures: throughput and p99 of ceiling and store, the rival's throughput,
    and the store's ratio to the rival (the goal, for single-event appends)."""
    clients, batch = shape
    suffix = f"{clients}c" + ("" if batch == 1 else f"_batch{batch}")

    def append_figure(name: str, results: list[LoadResult], note: str) -> Figure:
        return Figure(
            f"{name}_{suffix}",
            "events/s",
            [r.units_per_s for r in results],
            group="append",
            note=note,
        )

    raw_f = append_figure(
        "raw_asyncpg_append",
        raw,
        f"ceiling: plain asyncpg INSERT of {batch} event row(s) per transaction",
    )
    raw_p99 = latency(f"raw_asyncpg_append_{suffix}_p99", raw, 99, group="append")
    store_f = append_figure(
        "store_append", store, "services.store.eventstore.append, one transaction per call"
    )
    store_p99 = latency(f"store_append_{suffix}_p99", store, 99, group="append")
    es_f = append_figure(
        "eventsourcing_append",
        es,
        "eventsourcing PostgresApplicationRecorder.insert_events (threads)",
    )
    if not es_f.runs:
        return [raw_f, raw_p99, store_f, store_p99]
    store_f.against = es_f.name
    store_f.ratio = store_f.value / es_f.value if es_f.value else None
    if batch == 1:
        store_f.goal = ">= 1.5 x eventsourcing"
        store_f.met = None if quick else bool(store_f.ratio and store_f.ratio >= 1.5)
    raw_f.note += f"; store reaches {store_f.value / raw_f.value:.0%} of it"
    return [raw_f, raw_p99, store_f, store_p99, es_f]
