"""DPoP replay protection shared by every API instance: a proof's replay key is inserted
into ``dpop_proofs_seen`` (primary key), and a second insert of the same key, on any
instance, finds it there. Expired keys are purged now and then by whoever inserts.

The insert commits with ``synchronous_commit = off``: it then costs no WAL flush of its own
(the commit is flushed with the next ones, within a few hundred milliseconds). A PostgreSQL
crash can lose the keys of that last moment, so a proof captured then could be replayed once
within its 60-second window after the restart; accepted, against an fsync on every request.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

PURGE_ONE_IN = 500


async def remember(engine: AsyncEngine, key: str, expires_at: float) -> bool:
    """True if ``key`` was not yet seen (now remembered until ``expires_at``, Unix time)."""
    async with engine.begin() as conn:
        await conn.execute(text("SET LOCAL synchronous_commit = off"))
        inserted = await conn.scalar(
            text(
                "INSERT INTO dpop_proofs_seen (jti, expires_at) VALUES (:k, :e) "
                "ON CONFLICT (jti) DO NOTHING RETURNING 1"
            ),
            {"k": key, "e": datetime.fromtimestamp(expires_at, UTC)},
        )
        if random.randrange(PURGE_ONE_IN) == 0:
            await conn.execute(text("DELETE FROM dpop_proofs_seen WHERE expires_at < now()"))
    return inserted is not None
