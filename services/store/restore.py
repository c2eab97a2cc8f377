"""The two steps around a data-only restore of the event store (deploy/backup/restore.sh).

Restored events carry the transaction ids of the cluster they were written on. A cluster
restored onto has its own counter, possibly far below them: new appends would then sort
before the restored events in the feed, behind the restored checkpoints, and never be read.
So the restore rebases the feed: every restored event gets transaction id 0, and position
alone orders them (a stream's positions rise with its versions, so every stream keeps its
order), below anything appended from then on. Checkpoints follow; the read models are then
rebuilt from the store (the script's next step).

Before the data is loaded the table's feed trigger is switched off: ``pg_restore
--single-transaction`` writes other tables first, and the trigger would refuse the events'
COPY as an append by a transaction that wrote before joining the feed (the relay and the
API are stopped during a restore, so nothing is racing it).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def prepare(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_join_feed"))


async def finish(engine: AsyncEngine) -> int:
    """Rebase the restored feed (see the module's doc); return how many events moved."""
    async with engine.begin() as conn:
        # The append-only rule is lifted for this one statement of the operator's restore.
        await conn.execute(text("ALTER TABLE events DISABLE TRIGGER events_no_update_or_delete"))
        moved = await conn.execute(
            text("UPDATE events SET transaction_id = 0 WHERE transaction_id <> 0")
        )
        await conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_no_update_or_delete"))
        await conn.execute(text("ALTER TABLE events ENABLE TRIGGER events_join_feed"))
        for table in ("relay_checkpoints", "projection_checkpoints"):
            await conn.execute(text(f"UPDATE {table} SET transaction_id = 0"))
        return int(moved.rowcount or 0)
