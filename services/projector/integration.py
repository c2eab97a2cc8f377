"""Integration events for downstream registers: when every part-1 objective of a doctor is
approved, the health personnel register (HPR) is told — "LIS1 approved" is registered there
and employers check it before hiring into parts 2-3 (RULES.md, facts beyond the seeds).

The projection decides, exactly once per doctor, from the event store's state at that
event; it writes an outbox row in the same transaction as its checkpoint. The publisher
drains the outbox to JetStream (``kompetanse.integration.hpr.part1-approved``) with
``Nats-Msg-Id`` = the message id, and marks a row published only after the ack. The payload
carries the internal doctor id and the date — the register maps the id to the person through
its own, authorised lookup; no personal data travels on the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import msgspec
import nats
import structlog
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from domain.progress import progress
from events.doctor import ObjectiveApproved
from services.natsconn import servers_from_url
from services.projector.read_models import copies_of
from services.read_models.states import CATALOGUES, DOCTORS, decode_event
from services.store import eventstore
from services.store.eventstore import Cursor, RecordedEvent

log = structlog.get_logger("integration")

SUBJECT = "kompetanse.integration.hpr.part1-approved"
STREAM = "KOMPETANSE_INTEGRATION"


class Part1Approved(msgspec.Struct, kw_only=True):
    message_id: str
    doctor_id: str
    approved_on: str
    catalogue_version: str | None
    event_position: int


async def doctor_state_at(conn: AsyncConnection, event: RecordedEvent):  # type: ignore[no-untyped-def]
    state = DOCTORS.initial()
    for recorded in await eventstore.load_stream(conn, event.stream_id):
        if recorded.version > event.version:
            break
        state = DOCTORS.evolve(state, decode_event(recorded))
    return state


_catalogues: dict[tuple[str, int], object] = {}


async def catalogue_before(conn: AsyncConnection, cursor: Cursor):  # type: ignore[no-untyped-def]
    """The catalogue as published before ``cursor`` in the feed (cached by its version), so
    a rebuild decides as the live projection did."""
    last = await conn.scalar(
        text(
            "SELECT coalesce(max(version), 0) FROM events WHERE stream_id = 'catalogue-annex2' "
            "AND (transaction_id, position) < (:t, :p)"
        ),
        {"t": cursor.transaction_id, "p": cursor.position},
    )
    return await catalogue_at(conn, int(last or 0))


def database_of(conn: AsyncConnection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)


async def catalogue_at(  # type: ignore[no-untyped-def]
    conn: AsyncConnection, last: int, database: str | None = None
):
    """The catalogue folded up to its event at position ``last`` (0: none yet), cached per
    database (``database_of(conn)``, passed by callers asking many times)."""
    key = (database or database_of(conn), last)
    if key not in _catalogues:
        catalogue = CATALOGUES.initial()
        for recorded in await eventstore.load_stream(conn, "catalogue-annex2"):
            if recorded.version <= key[1]:
                catalogue = CATALOGUES.evolve(catalogue, decode_event(recorded))
        _catalogues[key] = catalogue
    return _catalogues[key]


def message_for(
    event: RecordedEvent, approval: ObjectiveApproved, catalogue_version: str | None
) -> Part1Approved:
    return Part1Approved(
        message_id=f"part1-approved:{event.stream_id}",
        doctor_id=event.stream_id,
        approved_on=approval.approved_on.isoformat(),
        catalogue_version=catalogue_version,
        event_position=event.position,
    )


class Part1Completion:
    """Writes one outbox message the moment a doctor's part-1 objectives are all approved."""

    name = "part1_completion"
    tables: tuple[str, ...] = ("part1_completions",)

    def ddl(self, suffix: str) -> list[str]:
        return copies_of(self.tables, suffix)

    async def apply_batch(
        self, conn: AsyncConnection, events: Sequence[RecordedEvent], suffix: str
    ) -> None:
        from services.projector import part1_batch

        await part1_batch.apply_batch(conn, events, suffix)

    async def apply(self, conn: AsyncConnection, event: RecordedEvent, suffix: str) -> None:
        """One event: the reference the batch path (``part1_batch``) must agree with."""
        if event.type != "doctor.objective_approved":
            return
        approval = decode_event(event)
        assert isinstance(approval, ObjectiveApproved)
        done = await conn.scalar(
            text(f"SELECT 1 FROM part1_completions{suffix} WHERE doctor_id = :d"),
            {"d": event.stream_id},
        )
        if done:
            return
        catalogue = await catalogue_before(conn, event.cursor)
        version = catalogue.version_on(approval.approved_on)
        if version is None:
            return
        part1_total = sum(1 for o in version.objectives.values() if o.part == 1)
        # Cheap test first: fewer distinct approvals than part-1 objectives cannot be all.
        approved = await conn.scalar(
            text(
                "SELECT count(DISTINCT data->>'objective_id') FROM events WHERE stream_id = :s "
                "AND type = 'doctor.objective_approved' AND version <= :v"
            ),
            {"s": event.stream_id, "v": event.version},
        )
        if int(approved or 0) < part1_total:
            return
        state = await doctor_state_at(conn, event)
        result = progress(state, catalogue, approval.approved_on)
        part1 = next((p for p in result.parts if p.part == 1), None)
        if part1 is None or part1.total == 0 or part1.approved < part1.total:
            return
        await conn.execute(
            text(
                f"INSERT INTO part1_completions{suffix} (doctor_id, approved_on, position) "
                "VALUES (:d, :on, :p)"
            ),
            {"d": event.stream_id, "on": approval.approved_on, "p": event.position},
        )
        if suffix:
            return  # a rebuild recomputes the table; the messages were sent already
        message = message_for(event, approval, result.catalogue_version)
        await conn.execute(
            text(
                "INSERT INTO integration_outbox (message_id, subject, payload, position) "
                "VALUES (:m, :s, :p, :pos) ON CONFLICT (message_id) DO NOTHING"
            ),
            {
                "m": message.message_id,
                "s": SUBJECT,
                "p": msgspec.json.encode(message),
                "pos": event.position,
            },
        )


async def _ensure_stream(js: JetStreamContext, replicas: int) -> None:
    try:
        await js.stream_info(STREAM)
    except NotFoundError:
        await js.add_stream(
            StreamConfig(
                name=STREAM,
                subjects=["kompetanse.integration.>"],
                storage=StorageType.FILE,
                duplicate_window=24 * 3600,
                num_replicas=replicas,
            )
        )


async def _drain(engine: AsyncEngine, js: JetStreamContext) -> int:
    """Publish what the outbox holds (up to 100), each marked published after its ack."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT message_id, subject, payload FROM integration_outbox "
                    "WHERE published_at IS NULL ORDER BY position LIMIT 100"
                )
            )
        ).all()
    for row in rows:
        await js.publish(row.subject, bytes(row.payload), headers={"Nats-Msg-Id": row.message_id})
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE integration_outbox SET published_at = now() WHERE message_id = :m"),
                {"m": row.message_id},
            )
        log.info("integration.published", message_id=row.message_id)
    return len(rows)


async def publish_outbox(
    engine: AsyncEngine,
    nats_url: str,
    stop: asyncio.Event,
    poll_seconds: float = 0.2,
    replicas: int = 1,
) -> None:
    """Drain the outbox to JetStream until ``stop``; at-least-once, deduplicated by id."""
    while not stop.is_set():
        nc = None
        try:
            nc = await nats.connect(
                servers_from_url(nats_url),
                name="kompetanse-integration",
                max_reconnect_attempts=-1,
            )
            js = nc.jetstream()
            await _ensure_stream(js, replicas)
            while not stop.is_set():
                if not await _drain(engine, js):
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), poll_seconds)
        except Exception as err:
            log.warning("integration.interrupted", error=repr(err))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
        finally:
            if nc is not None and not nc.is_closed:
                with contextlib.suppress(Exception):
                    await nc.close()
