"""Rebuild read models from the event store, all of them in one pass, without downtime.

Each projection builds into a fresh set of tables (suffix ``__rebuild``) while its live set
keeps serving reads and its live projector keeps running. The store is read once, in pages
of ``batch_size`` events (keyset on the feed cursor, so memory stays bounded whatever the size
of the store: two pages at most, the one applied and the one read ahead), and each page is
applied to every projection's fresh tables in one transaction, through the projection's
batch path where it has one.

The swap is one transaction: it locks every rebuilt projection's checkpoint row (so their
live projectors pause at their next batch), applies what was appended during the replay,
renames the fresh tables over the live ones and sets the checkpoints to the last event
applied. The live projectors then go on from there, skipping what the rebuild applied.

A crash or a stop before the swap leaves ``__rebuild`` tables behind and the live ones
untouched (the next rebuild drops them); nothing is lost, the rebuild is simply run again.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services import feed
from services.projector.projection import Projection
from services.projector.runtime import REBUILD, apply_publishable, lock_checkpoint
from services.store import eventstore, sql
from services.store.eventstore import START, Cursor, RecordedEvent

Progress = Callable[[int, int], None]


async def rebuild(
    engine: AsyncEngine,
    *projections: Projection,
    batch_size: int = 5000,
    progress: Progress | None = None,
    seconds: dict[str, float] | None = None,
) -> Cursor:
    """Replay the store once into fresh tables of every projection given, swap them all in,
    and return the cursor they are at. ``progress(replayed, total)`` is called after each
    page (events so far, events in the store when it began). ``seconds``, if given, is
    filled with the time spent reading the store (``read``, alongside the applying), in
    each projection (by name) and in the swap (``swap``)."""
    timings = seconds if seconds is not None else {}
    async with engine.begin() as conn:
        for projection in projections:
            for table in projection.tables:
                await conn.execute(text(f"DROP TABLE IF EXISTS {table}{REBUILD}"))
            for statement in projection.ddl(REBUILD):
                await conn.execute(text(statement))
        total = await eventstore.events_after(conn, START, cap=2**62)
    cursor = await _replay(engine, projections, batch_size, total, progress, timings)
    started = time.perf_counter()
    async with engine.begin() as conn:
        cursor = await _swap(conn, projections, cursor, batch_size, timings)
    timings["swap"] = time.perf_counter() - started
    return cursor


async def _replay(
    engine: AsyncEngine,
    projections: Sequence[Projection],
    limit: int,
    total: int,
    progress: Progress | None,
    timings: dict[str, float],
) -> Cursor:
    """Apply the store page by page, each in its own transaction, while the next page is
    read on a second connection (the reading and decoding of one page overlaps the
    folding of the previous one); return the cursor reached."""
    cursor, replayed = START, 0
    reading = asyncio.create_task(_read(engine, cursor, limit, timings))
    try:
        while batch := await reading:
            cursor, replayed = batch[-1].cursor, replayed + len(batch)
            reading = asyncio.create_task(_read(engine, cursor, limit, timings))
            async with engine.begin() as conn:
                await _apply(conn, projections, batch, timings)
            if progress is not None:
                progress(replayed, total)
    finally:
        reading.cancel()
        # Whatever the read ahead ended with, the error that stopped the replay is the one.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await reading
    return cursor


async def _read(
    engine: AsyncEngine, cursor: Cursor, limit: int, timings: dict[str, float]
) -> list[RecordedEvent]:
    async with engine.connect() as conn:
        return await _read_page(conn, cursor, limit, timings)


async def _read_page(
    conn: AsyncConnection, cursor: Cursor, limit: int, timings: dict[str, float]
) -> list[RecordedEvent]:
    started = time.perf_counter()
    batch = await eventstore.read_feed(conn, after=cursor, limit=limit)
    timings["read"] = timings.get("read", 0.0) + time.perf_counter() - started
    return batch


async def _apply(
    conn: AsyncConnection,
    projections: Sequence[Projection],
    batch: list[RecordedEvent],
    timings: dict[str, float],
) -> None:
    """Apply a page to every projection's fresh tables (in the caller's transaction)."""
    # The relay's dead letters never reached the stream; the live projectors never saw them.
    # A stream's events sit together in the store: check each (stream, type) once a page.
    known: dict[tuple[str, str, str], bool] = {}
    publishable = []
    for event in batch:
        key = (event.stream_type, event.stream_id, event.type)
        ok = known.get(key)
        if ok is None:
            ok = known[key] = feed.is_publishable(event)
        if ok:
            publishable.append(event)
    if not publishable:
        return
    for projection in projections:
        started = time.perf_counter()
        await apply_publishable(conn, projection, publishable, REBUILD)
        elapsed = time.perf_counter() - started
        timings[projection.name] = timings.get(projection.name, 0.0) + elapsed


async def _swap(
    conn: AsyncConnection,
    projections: Sequence[Projection],
    cursor: Cursor,
    limit: int,
    timings: dict[str, float],
) -> Cursor:
    # In name order, so two rebuilds of overlapping sets cannot deadlock on the rows.
    for projection in sorted(projections, key=lambda p: p.name):
        await lock_checkpoint(conn, projection.name)
    while batch := await _read_page(conn, cursor, limit, timings):
        await _apply(conn, projections, batch, timings)
        cursor = batch[-1].cursor
    for projection in projections:
        for table in projection.tables:
            await _rename_over(conn, table)
        await conn.execute(
            text(
                "INSERT INTO projection_checkpoints (projection, transaction_id, position) "
                "VALUES (:n, :t, :p) ON CONFLICT (projection) DO UPDATE SET "
                "transaction_id = excluded.transaction_id, position = excluded.position, "
                "updated_at = now()"
            ),
            {"n": projection.name, "t": cursor.transaction_id, "p": cursor.position},
        )
    return cursor


async def _rename_over(conn: AsyncConnection, table: str) -> None:
    await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    await conn.execute(text(f"ALTER TABLE {table}{REBUILD} RENAME TO {table}"))
    # Index names are schema-wide: give the new table's indexes the live names so the next
    # rebuild can create its own again.
    indexes = await sql.column(
        conn, "SELECT indexname FROM pg_indexes WHERE tablename = :t", {"t": table}
    )
    for index in indexes:
        if REBUILD in index:
            live_name = index.replace(REBUILD, "")
            await conn.execute(text(f"ALTER INDEX {index} RENAME TO {live_name}"))
