"""The rate limit's token buckets, one row per acting party in ``rate_limit_buckets``
(UNLOGGED, migration 0009), shared by every API worker and instance on the primary.

One statement per request: it refills the party's bucket for the time since its last use,
takes what it can of ``cost`` tokens, and says how many it took. Concurrent takes of one
party queue on its row lock for the statement's few microseconds; the commit writes no WAL
of its own worth flushing (an unlogged table), so it costs no fsync. Rows unused for longer
than a full refill are swept now and then by whoever takes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

SWEEP_ONE_IN = 1000

# The parameters, typed once (asyncpg would otherwise guess text for some).
_COST, _CAPACITY, _RATE = "CAST(:cost AS int)", "CAST(:capacity AS float8)", "CAST(:rate AS float8)"
# The bucket refilled since its last use, never above its capacity.
_ELAPSED = "greatest(0, extract(epoch FROM now() - b.updated_at))"
_REFILLED = f"least({_CAPACITY}, b.tokens + {_ELAPSED} * {_RATE})"
_TAKE = text(
    f"""
    INSERT INTO rate_limit_buckets AS b (party, tokens, granted, updated_at)
    VALUES (:party, {_CAPACITY} - least({_COST}, floor({_CAPACITY})),
            least({_COST}, floor({_CAPACITY}))::int, now())
    ON CONFLICT (party) DO UPDATE SET
        granted = least({_COST}, floor({_REFILLED}))::int,
        tokens = {_REFILLED} - least({_COST}, floor({_REFILLED})),
        updated_at = greatest(b.updated_at, now())
    RETURNING granted, tokens
    """
)


@dataclass(frozen=True)
class Taken:
    granted: int  # tokens taken, 0..cost
    tokens_left: float


async def take(engine: AsyncEngine, party: str, cost: int, per_minute: int) -> Taken:
    """Take up to ``cost`` tokens from ``party``'s bucket of ``per_minute`` (its capacity,
    refilled at ``per_minute`` a minute)."""
    params = {
        "party": party,
        "cost": cost,
        "capacity": float(per_minute),
        "rate": per_minute / 60.0,
    }
    async with engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")  # one round trip
        row = (await conn.execute(_TAKE, params)).one()
        if random.randrange(SWEEP_ONE_IN) == 0:
            await conn.execute(
                text("DELETE FROM rate_limit_buckets WHERE updated_at < now() - interval '2 min'")
            )
    return Taken(int(row.granted), float(row.tokens))
