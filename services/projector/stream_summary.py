"""The simplest projection: one row per stream with its version and last event type.

It proves the runtime (exactly-once application, rebuild and swap); the training read
models are separate projections built the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.projector.read_models import copies_of
from services.store.eventstore import RecordedEvent


class StreamSummary:
    name = "stream_summary"
    tables: tuple[str, ...] = ("stream_summaries",)

    def ddl(self, suffix: str) -> list[str]:
        return copies_of(self.tables, suffix)

    async def apply(self, conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
        # Deliberately not idempotent on its own (event_count + 1): the runtime's checkpoint
        # is what makes a redelivery harmless, and the tests would see a double count.
        await conn.execute(
            text(
                f"""
                INSERT INTO stream_summaries{suffix}
                    (stream_id, stream_type, version, event_count, last_type, last_position)
                VALUES (:stream_id, :stream_type, :version, 1, :type, :position)
                ON CONFLICT (stream_id) DO UPDATE SET
                    version = excluded.version,
                    event_count = stream_summaries{suffix}.event_count + 1,
                    last_type = excluded.last_type,
                    last_position = excluded.last_position
                """
            ),
            {
                "stream_id": event.stream_id,
                "stream_type": event.stream_type,
                "version": event.version,
                "type": event.type,
                "position": event.position,
            },
        )

    async def apply_batch(
        self, conn: AsyncConnection, events: Sequence[RecordedEvent], suffix: str
    ) -> None:
        """The batch (in position order) folded per stream in memory and written with one
        multi-row upsert: one write per touched row, the count added to the stored one.
        Same rows as :meth:`apply` one event at a time (a row's stream_type is set by its
        first event and never changes, as there)."""
        first: dict[str, RecordedEvent] = {}
        last: dict[str, RecordedEvent] = {}
        counts: dict[str, int] = {}
        for event in events:
            first.setdefault(event.stream_id, event)
            last[event.stream_id] = event
            counts[event.stream_id] = counts.get(event.stream_id, 0) + 1
        if not last:
            return
        await conn.execute(
            text(
                f"""
                INSERT INTO stream_summaries{suffix}
                    (stream_id, stream_type, version, event_count, last_type, last_position)
                SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[]),
                    CAST(:versions AS int[]), CAST(:counts AS int[]),
                    CAST(:last_types AS text[]), CAST(:positions AS bigint[]))
                ON CONFLICT (stream_id) DO UPDATE SET
                    version = excluded.version,
                    event_count = stream_summaries{suffix}.event_count + excluded.event_count,
                    last_type = excluded.last_type,
                    last_position = excluded.last_position
                """
            ),
            {
                "ids": list(last),
                "types": [first[s].stream_type for s in last],
                "versions": [e.version for e in last.values()],
                "counts": [counts[s] for s in last],
                "last_types": [e.type for e in last.values()],
                "positions": [e.position for e in last.values()],
            },
        )
