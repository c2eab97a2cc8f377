"""The simplest projection: one row per stream with its version and last event type.

It proves the runtime (exactly-once application, rebuild and swap); the training read
models are separate projections built the same way.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.eventstore import RecordedEvent


class StreamSummary:
    name = "stream_summary"
    tables: tuple[str, ...] = ("stream_summaries",)

    def ddl(self, suffix: str) -> list[str]:
        return [
            f"""
            CREATE TABLE IF NOT EXISTS stream_summaries{suffix} (
                stream_id     text PRIMARY KEY,
                stream_type   text   NOT NULL,
                version       integer NOT NULL,
                event_count   integer NOT NULL,
                last_type     text   NOT NULL,
                last_position bigint NOT NULL
            )
            """
        ]

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
