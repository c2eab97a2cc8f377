"""Every decision on an application, with its reason, for the doctor to read (issue 13:
"the decision never reaches the doctor"). Read from the application's own stream: an
application has a handful of events, and the doctor sees a decision the moment it is made.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from events.application import ApplicationDecided
from events.base import registry


class Decision(msgspec.Struct, kw_only=True):
    outcome: str
    reason: str
    decided_on: str


class Decisions:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def of(self, application_id: str) -> list[Decision]:
        async with self._engine.connect() as conn:
            return await decisions_of(conn, application_id)


async def decisions_of(conn: AsyncConnection, application_id: str) -> list[Decision]:
    rows = (
        await conn.execute(
            text(
                "SELECT schema_version, data::text AS data FROM events "
                "WHERE stream_id = :a AND type = 'application.decided' ORDER BY version"
            ),
            {"a": application_id},
        )
    ).all()
    out = []
    for row in rows:
        event = registry.decode("application.decided", row.schema_version, row.data.encode())
        assert isinstance(event, ApplicationDecided)
        out.append(
            Decision(
                outcome=event.outcome,
                reason=event.reason,
                decided_on=event.decided_on.isoformat(),
            )
        )
    return out
