"""Read-your-writes notes of the replica routing (``services.read_models.routing``): after a
party's write, the primary's WAL position then, in ``read_your_writes`` (UNLOGGED, migration
0009) on the primary, so every API worker and instance sees it, whichever serves the
party's next read. A note older than ``remember_seconds`` is ignored and swept now and then.
"""

from __future__ import annotations

import random

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SWEEP_ONE_IN = 1000


def lsn_number(value: str) -> int:
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) + int(low, 16)


async def note(primary: AsyncEngine, party: str, remember_seconds: float) -> None:
    """Note the primary's current WAL position as ``party``'s last write."""
    async with primary.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")  # one round trip
        await conn.execute(
            text(
                "INSERT INTO read_your_writes AS n (party, lsn, noted_at) "
                "VALUES (:party, pg_current_wal_lsn(), now()) ON CONFLICT (party) DO UPDATE "
                "SET lsn = greatest(n.lsn, EXCLUDED.lsn), noted_at = now()"
            ),
            {"party": party},
        )
        if random.randrange(SWEEP_ONE_IN) == 0:
            await conn.execute(
                text(
                    "DELETE FROM read_your_writes "
                    "WHERE noted_at < now() - make_interval(secs => :s)"
                ),
                {"s": remember_seconds},
            )


async def last_write(primary: AsyncEngine, party: str, remember_seconds: float) -> int | None:
    """``party``'s last noted WAL position, if noted within ``remember_seconds``."""
    async with primary.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")  # one round trip
        lsn = await conn.scalar(
            text(
                "SELECT lsn::text FROM read_your_writes WHERE party = :party "
                "AND noted_at > now() - make_interval(secs => :s)"
            ),
            {"party": party, "s": remember_seconds},
        )
    return None if lsn is None else lsn_number(str(lsn))
