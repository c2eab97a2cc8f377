"""Reads of the record as stored: a doctor's audit trail (the events with who and when), the
access log, the caseworkers' queue and an application's frozen bundle. Each a single query,
each paginated by an opaque cursor the caller passes back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass(frozen=True)
class ApplicationRecord:
    doctor_id: str
    content_hash: str
    bundle: Any
    status: str
    version: int


_AUDIT = text(
    "SELECT position, event_id, version, type, schema_version, recorded_at, "
    "metadata::text AS metadata, data::text AS data FROM events "
    "WHERE stream_id = :s AND version > :after ORDER BY version LIMIT :n"
)
_ACCESS = text(
    "SELECT id, at, actor_kind, actor_hpr, client_id, org_number, action, "
    "method, endpoint, status FROM access_log "
    "WHERE doctor_id = :d AND id > :after ORDER BY id LIMIT :n"
)
# In feed order of the event that last changed each row (migration 0011): the projector
# applies events in that order, so a page never misses a row changed after the page before.
_QUEUE = text(
    "SELECT application_id, doctor_id, specialty, status, submitted_on, decided_on, "
    "last_transaction_id, last_position FROM application_queue "
    "WHERE (CAST(:s AS text) IS NULL OR status = :s) "
    "AND (last_transaction_id, last_position) > (:at, :ap) "
    "ORDER BY last_transaction_id, last_position LIMIT :n"
)
# The bundle with the application's current status and version: the latest decision event
# (a decision shows at once, not after the projector).
_APPLICATION = text(
    """
    SELECT b.doctor_id, b.content_hash, b.bundle,
           coalesce((SELECT e.data ->> 'outcome' FROM events e
                     WHERE e.stream_id = b.application_id AND e.type = 'application.decided'
                     ORDER BY e.version DESC LIMIT 1), 'submitted') AS status,
           (SELECT max(e.version) FROM events e WHERE e.stream_id = b.application_id)
               AS version
    FROM application_bundles b WHERE b.application_id = :a
    """
)


class Records:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _rows(self, query: Any, params: dict[str, Any]) -> list[Row[Any]]:
        async with self._engine.connect() as conn:
            return list((await conn.execute(query, params)).all())

    async def audit_trail(self, doctor_id: str, after: int, limit: int) -> list[Row[Any]]:
        """Up to ``limit + 1`` events after stream version ``after`` (the extra one says
        whether there is a next page)."""
        return await self._rows(_AUDIT, {"s": doctor_id, "after": after, "n": limit + 1})

    async def access_log(self, doctor_id: str, after: int, limit: int) -> list[Row[Any]]:
        return await self._rows(_ACCESS, {"d": doctor_id, "after": after, "n": limit + 1})

    async def queue(self, status: str | None, after: tuple[int, int], limit: int) -> list[Row[Any]]:
        """Up to ``limit + 1`` rows after ``after``, a (transaction id, position) pair."""
        params = {"s": status, "at": after[0], "ap": after[1], "n": limit + 1}
        return await self._rows(_QUEUE, params)

    async def application(self, application_id: str) -> ApplicationRecord | None:
        rows = await self._rows(_APPLICATION, {"a": application_id})
        if not rows:
            return None
        row = rows[0]
        return ApplicationRecord(
            doctor_id=row.doctor_id,
            content_hash=row.content_hash,
            bundle=msgspec.json.decode(bytes(row.bundle)),
            status=row.status,
            version=int(row.version or 0),
        )
