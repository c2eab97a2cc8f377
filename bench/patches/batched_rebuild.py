"""A rebuild that replays the event store once for every projection and writes each
stream's row once per batch — what the rebuild profile asks for.

Measured by the benchmark as ``rebuild_batched_*`` (a what-if, beside the real
``services.projector.runtime.rebuild``). ``0003-batched-rebuild.md`` beside this file says
how to move it into ``services/``.

Why it is faster: ``rebuild`` applies one event at a time through ``Projection.apply``:
for ``domain_states`` that is a SELECT of the stream's row, a msgpack decode of the whole
folded state, ``evolve``, a msgpack encode and an upsert — two round trips and two
whole-state copies per event, so a doctor with n events costs O(n²) bytes. Here a batch of
events (in position order) is grouped by stream; each stream's row is read once (one
``= ANY`` query per batch), folded in memory, and written back with one multi-row upsert.
The stream summary is computed per batch the same way. The store is read once for all
projections instead of once per projection.
"""

from __future__ import annotations

import time
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.projector.runtime import REBUILD
from services.read_models import applications, states
from services.store import eventstore


async def _fresh_tables(engine: AsyncEngine, projections: list[Any]) -> None:
    async with engine.begin() as conn:
        for projection in projections:
            for table in projection.tables:
                await conn.execute(text(f"DROP TABLE IF EXISTS {table}{REBUILD}"))
            for statement in projection.ddl(REBUILD):
                await conn.execute(text(statement))


async def rebuild_all_batched(
    engine: AsyncEngine, *, batch_size: int = 5000, budget: float | None = None
) -> dict[str, Any]:
    """Replay every event into fresh ``__rebuild`` tables of all projections (no swap: the
    benchmark measures the replay). Returns events, seconds and whether it completed."""
    from services.processes import all_projections

    projections = all_projections()
    await _fresh_tables(engine, projections)
    started = time.perf_counter()
    position = 0
    events = 0
    complete = True
    while True:
        async with engine.begin() as conn:
            batch = await eventstore.read_all(conn, after_position=position, limit=batch_size)
            if not batch:
                break
            await _apply_states(conn, batch)
            await _apply_summaries(conn, batch)
            for event in batch:
                if event.stream_type == "application":
                    await applications.apply(conn, event, REBUILD)
        position = batch[-1].position
        events += len(batch)
        if budget is not None and time.perf_counter() - started > budget:
            complete = False
            break
    return {"events": events, "seconds": time.perf_counter() - started, "complete": complete}


async def _apply_states(conn: Any, batch: list[Any]) -> None:
    by_table: dict[str, list[Any]] = {}
    for event in batch:
        table = states.TABLES.get(event.stream_type)
        if table is not None:
            by_table.setdefault(event.stream_type, []).append(event)
    for stream_type, events in by_table.items():
        table = states.TABLES[stream_type]
        name = f"{table.table}{REBUILD}"
        ids = sorted({e.stream_id for e in events})
        rows = await conn.execute(
            text(f"SELECT stream_id, state FROM {name} WHERE stream_id = ANY(:ids)"),
            {"ids": ids},
        )
        folded: dict[str, Any] = {
            r.stream_id: msgspec.msgpack.decode(bytes(r.state), type=table.state_type) for r in rows
        }
        last: dict[str, Any] = {}
        for event in events:
            state = folded.get(event.stream_id)
            if state is None:
                state = table.initial()
            folded[event.stream_id] = table.evolve(state, states.decode_event(event))
            last[event.stream_id] = event
        await conn.execute(
            text(
                f"INSERT INTO {name} (key, stream_id, version, state, last_position) "
                "SELECT * FROM unnest(CAST(:k AS text[]), CAST(:s AS text[]), "
                "CAST(:v AS int[]), CAST(:st AS bytea[]), CAST(:p AS bigint[])) "
                "ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version, "
                "state = excluded.state, last_position = excluded.last_position"
            ),
            {
                "k": [table.key_of(s) for s in last],
                "s": list(last),
                "v": [e.version for e in last.values()],
                "st": [msgspec.msgpack.encode(folded[s]) for s in last],
                "p": [e.position for e in last.values()],
            },
        )


async def _apply_summaries(conn: Any, batch: list[Any]) -> None:
    summary: dict[str, list[Any]] = {}
    for event in batch:
        row = summary.get(event.stream_id)
        if row is None:
            summary[event.stream_id] = [
                event.stream_type,
                event.version,
                1,
                event.type,
                event.position,
            ]
        else:
            row[1], row[3], row[4] = event.version, event.type, event.position
            row[2] += 1
    await conn.execute(
        text(
            f"INSERT INTO stream_summaries{REBUILD} (stream_id, stream_type, version, "
            "event_count, last_type, last_position) SELECT * FROM unnest(CAST(:id AS text[]), "
            "CAST(:st AS text[]), CAST(:v AS int[]), CAST(:n AS int[]), CAST(:t AS text[]), "
            "CAST(:p AS bigint[])) ON CONFLICT (stream_id) DO UPDATE SET "
            f"version = excluded.version, event_count = stream_summaries{REBUILD}.event_count "
            "+ excluded.event_count, last_type = excluded.last_type, "
            "last_position = excluded.last_position"
        ),
        {
            "id": list(summary),
            "st": [r[0] for r in summary.values()],
            "v": [r[1] for r in summary.values()],
            "n": [r[2] for r in summary.values()],
            "t": [r[3] for r in summary.values()],
            "p": [r[4] for r in summary.values()],
        },
    )
