"""What the profile suggests, applied as monkeypatches so the benchmark can measure the
effect without touching ``services/`` (which others are editing). Each patch here has a
matching ``.patch`` file beside this module for the lead to apply to the real code.

``python -m bench.patches.whatif api`` runs ``services.cli api`` with the patches.

1. ``create_engine`` without ``pool_pre_ping``: SQLAlchemy's asyncpg ping is BEGIN, a
   query and ROLLBACK — three round trips on every checkout, and a write request checks out
   a connection four times (two access checks, the command, the access log).
2. ``eventstore.append`` in one statement: the expected-version check, the global lock and
   the INSERT in one round trip (was three), so the lock is taken by the statement that
   inserts and held only while it runs and the commit follows.
3. ``run_command`` writes the snapshot *before* the append, so nothing but the INSERT and
   the COMMIT happens while the global append lock is held.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

_APPEND = text(
    """
    WITH append_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(:lock_key) AS locked),
         head AS MATERIALIZED (
             SELECT coalesce(max(version), 0) AS version FROM events WHERE stream_id = :stream_id
         )
    INSERT INTO events (event_id, stream_type, stream_id, version, type, schema_version,
                        data, metadata)
    SELECT e.event_id, :stream_type, :stream_id, e.version, e.type, e.schema_version,
           e.data::jsonb, e.metadata::jsonb
    FROM append_lock, head,
         unnest(CAST(:event_ids AS uuid[]), CAST(:versions AS int[]), CAST(:types AS text[]),
                CAST(:schema_versions AS smallint[]), CAST(:datas AS text[]),
                CAST(:metadatas AS text[]))
         WITH ORDINALITY AS e(event_id, version, type, schema_version, data, metadata, ord)
    WHERE head.version = :expected
    ORDER BY e.ord
    RETURNING position, recorded_at
    """
)


def create_engine(url: str, *, pool_size: int = 10) -> Any:
    from services.store.database import async_url

    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=False,  # a dead connection fails one request and is replaced
        pool_recycle=1800,
    )


async def append(
    conn: AsyncConnection,
    *,
    stream_type: str,
    stream_id: str,
    expected_version: int | None,
    events: Sequence[Any],
) -> list[Any]:
    from services.store import eventstore
    from services.store.eventstore import (
        APPEND_LOCK_KEY,
        ConcurrencyConflict,
        DuplicateEventId,
        RecordedEvent,
    )

    if not events:
        return []
    if expected_version is None:
        expected_version = await eventstore.stream_version(conn, stream_id)
    encode = msgspec.json.encode
    params = {
        "lock_key": APPEND_LOCK_KEY,
        "stream_type": stream_type,
        "stream_id": stream_id,
        "expected": expected_version,
        "event_ids": [e.event_id for e in events],
        "versions": [expected_version + i for i in range(1, len(events) + 1)],
        "types": [e.type for e in events],
        "schema_versions": [e.schema_version for e in events],
        "datas": [e.data.decode() for e in events],
        "metadatas": [encode(e.metadata).decode() for e in events],
    }
    try:
        rows = (await conn.execute(_APPEND, params)).all()
    except IntegrityError as err:
        if "events_event_id_key" in str(err.orig):
            raise DuplicateEventId(str(err.orig)) from err
        raise ConcurrencyConflict(stream_id, expected_version, None) from err
    if not rows:  # the stream is not at the expected version
        raise ConcurrencyConflict(stream_id, expected_version, None)
    return [
        RecordedEvent(
            position=row.position,
            event_id=e.event_id,
            stream_type=stream_type,
            stream_id=stream_id,
            version=expected_version + i,
            type=e.type,
            schema_version=e.schema_version,
            data=msgspec.Raw(e.data),
            metadata=e.metadata,
            recorded_at=row.recorded_at,
        )
        for i, (e, row) in enumerate(zip(events, rows, strict=True), start=1)
    ]


async def run_command(
    conn: AsyncConnection,
    aggregate: Any,
    stream_id: str,
    *,
    expected_version: int | None,
    decide: Any,
    metadata: dict[str, Any],
    after_append: Any = None,
) -> Any:
    from services.application import streams
    from services.store.eventstore import ConcurrencyConflict

    state, version = await streams.load(conn, aggregate, stream_id)
    if expected_version is not None and expected_version != version:
        raise ConcurrencyConflict(stream_id, expected_version, version)
    decided = decide(state, version)
    if not isinstance(decided, list):
        raise streams.CommandRejected(decided)
    new_state = aggregate.fold(state, decided)
    new_version = version + len(decided)
    if decided:  # before the append: the lock is then held for the INSERT and COMMIT only
        await streams.save_snapshot(conn, aggregate, stream_id, new_version, new_state)
    recorded = await append(
        conn,
        stream_type=aggregate.stream_type,
        stream_id=stream_id,
        expected_version=version,
        events=streams.new_events(decided, metadata),
    )
    if after_append is not None:
        await after_append(conn, new_state, recorded)
    return streams.Outcome(new_state, new_version, recorded)


def already_in_services() -> bool:
    """True once the lead has applied 0001-0003 to ``services/`` (commit c0b4839): the
    what-if figures would then compare the code with itself, so they are skipped."""
    import inspect

    from services.store import database, eventstore

    return "append_lock" in inspect.getsource(eventstore) and "pool_pre_ping=False" in (
        inspect.getsource(database)
    )


def apply() -> None:
    """Install the patches in the running interpreter (before the app is created)."""
    import services.api.app as app_module
    import services.api.routes  # noqa: F401  (imports every controller module)
    import services.store.database as database
    import services.store.eventstore as eventstore_module
    from services.application import streams

    database.create_engine = create_engine  # type: ignore[assignment]
    app_module.create_engine = create_engine  # type: ignore[attr-defined]
    eventstore_module.append = append  # type: ignore[assignment]
    streams.run_command = run_command  # type: ignore[assignment]
    for name, module in list(sys.modules.items()):
        if name.startswith("services.api.") and hasattr(module, "run_command"):
            module.run_command = run_command  # type: ignore[attr-defined]


if __name__ == "__main__":
    apply()
    from services.cli import main

    sys.exit(main(sys.argv[1:]))
