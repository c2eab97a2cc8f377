"""Folding a batch of events into the state read model gives exactly the rows that applying
them one at a time gives (the projector and the rebuild use the batch path)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from services import seed
from services.read_models import states
from services.store import eventstore
from services.store.database import create_engine


async def test_batch_fold_equals_one_at_a_time(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await seed.seed_all(engine, date(2026, 11, 23))
        async with engine.begin() as conn:
            for table in states.TABLES.values():
                await conn.execute(text(table.ddl("__one")))
                await conn.execute(text(table.ddl("__batch")))
            events = await eventstore.read_feed(conn, after=eventstore.START, limit=100_000)
            assert len(events) > 50
            for event in events:
                await states.apply(conn, event, "__one")
            for start in range(0, len(events), 37):  # uneven batches across streams
                await states.apply_batch(conn, events[start : start + 37], "__batch")
            for table in states.TABLES.values():
                one = (
                    await conn.execute(text(f"SELECT * FROM {table.table}__one ORDER BY 1"))
                ).all()
                batch = (
                    await conn.execute(text(f"SELECT * FROM {table.table}__batch ORDER BY 1"))
                ).all()
                assert one == batch and one, table.table
    finally:
        await engine.dispose()
