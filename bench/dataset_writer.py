"""Storing a generated data set: events through ``services.store.eventstore``, with each
stream's snapshot, the people rows and the doctor-organisation relations."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.core import log
from bench.generator import SIZES, DoctorRecord, build_doctor
from bench.world import Stream, build_world
from events.base import registry
from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import NewEvent

METADATA: dict[str, Any] = {
    "actor": {"kind": "organisation", "client_id": "bench-generator"},
    "request_id": None,
}


def new_events(events: list[Any]) -> list[Any]:
    return [
        NewEvent(
            event_id=uuid.uuid4(),
            type=type(e).__struct_config__.tag,
            schema_version=type(e).schema_version,
            data=registry.encode(e),
            metadata=METADATA,
        )
        for e in events
    ]


SNAPSHOT_SCHEMA = {
    "doctor": "doctor-1",
    "organisation": "organisation-1",
    "catalogue": "catalogue-1",
}


async def write_streams(conn: Any, streams: list[Stream]) -> int:
    count = 0
    snaps = []
    for s in streams:
        if not s.events:
            continue
        await eventstore.append(
            conn,
            stream_type=s.stream_type,
            stream_id=s.stream_id,
            expected_version=0,
            events=new_events(s.events),
        )
        count += len(s.events)
        snaps.append(
            {
                "s": s.stream_id,
                "v": len(s.events),
                "st": msgspec.msgpack.encode(s.state),
                "sc": SNAPSHOT_SCHEMA[s.stream_type],
            }
        )
    if snaps:
        await conn.execute(
            text(
                "INSERT INTO stream_snapshots (stream_id, version, state, schema) "
                "VALUES (:s, :v, :st, :sc)"
            ),
            snaps,
        )
    return count


async def load(
    database_url: str, size: str, *, seed: int = 6, per_transaction: int = 100
) -> dict[str, Any]:
    """Generate the data set and store it; returns counts (events, doctors, seconds)."""
    n = SIZES[size]
    started = time.perf_counter()
    world = build_world(n)
    engine = create_engine(database_url, pool_size=2)
    total = 0
    stages: Counter[str] = Counter()
    decide_seconds = 0.0
    try:
        async with engine.begin() as conn:
            total += await write_streams(conn, [world.catalogue_stream, *world.org_streams])
        batch: list[DoctorRecord] = []
        for i in range(n):
            t0 = time.perf_counter()
            record = build_doctor(world, seed, i)
            decide_seconds += time.perf_counter() - t0
            stages[str(len(record.stream.events) // 50 * 50)] += 1
            batch.append(record)
            if len(batch) >= per_transaction or i == n - 1:
                total += await _write_doctors(engine, batch)
                batch = []
            if (i + 1) % 2000 == 0:
                log(f"generator: {i + 1}/{n} doctors, {total} events")
        events = await _analyse(engine)
    finally:
        await engine.dispose()
    return {
        "size": size,
        "doctors": n,
        "events": events,
        "organisations": len(world.org_streams),
        "seconds": time.perf_counter() - started,
        "decide_seconds": decide_seconds,
        "rejected_commands": dict(world.rejected.most_common(10)),
        "events_per_doctor_histogram": dict(sorted(stages.items(), key=lambda kv: int(kv[0]))),
    }


async def _write_doctors(engine: AsyncEngine, batch: list[DoctorRecord]) -> int:
    """One transaction: the doctors' streams and snapshots, people rows and relations."""
    async with engine.begin() as conn:
        count = await write_streams(conn, [r.stream for r in batch])
        await conn.execute(
            text("INSERT INTO people (doctor_id, hpr_number) VALUES (:d, :h)"),
            [{"d": r.doctor_id, "h": r.hpr_number} for r in batch],
        )
        pairs = [{"d": r.doctor_id, "o": o} for r in batch for o in sorted(r.orgs)]
        if pairs:
            await conn.execute(
                text(
                    "INSERT INTO doctor_organisations (doctor_id, org_number) "
                    "VALUES (:d, :o) ON CONFLICT DO NOTHING"
                ),
                pairs,
            )
    return count


async def _analyse(engine: AsyncEngine) -> int:
    """Fresh planner statistics for the tables just filled; returns the events stored."""
    async with engine.connect() as conn:
        events = int(await conn.scalar(text("SELECT count(*) FROM events")))
    for name in ("events", "stream_snapshots", "people", "doctor_organisations"):
        async with engine.begin() as conn:
            await conn.execute(text(f"ANALYZE {name}"))
    return events
