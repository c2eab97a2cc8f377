"""``part1_completion`` for a batch of events: the same decisions as
:meth:`Part1Completion.apply` one event at a time, in a fixed number of round trips.

Per batch: one read of the completions already recorded for the doctors approved in it,
one read of those doctors' approvals (the cheap "enough distinct approvals?" test), one of
the catalogue's events before the batch's last in the feed, one of the full streams of the
few doctors that pass the cheap test (their state at each candidate approval is folded
incrementally in memory), and one
multi-row insert (plus one into the outbox on the live tables). Everything read is the
event store's committed history or this projection's own table, so the order of the
decisions within the batch is the only thing to keep: a doctor recorded by an earlier
event of the batch is skipped by the later ones, as one by one.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.progress import progress
from events.base import Event, registry
from events.doctor import ObjectiveApproved
from services.projector.integration import SUBJECT, catalogue_at, database_of, message_for
from services.read_models.states import DOCTORS, decode_event
from services.store.eventstore import Cursor, RecordedEvent

APPROVED = "doctor.objective_approved"
# (event, its approval, the catalogue before it): an approval that passed the cheap test.
Candidate = tuple[RecordedEvent, ObjectiveApproved, Any]


async def apply_batch(conn: AsyncConnection, events: Sequence[RecordedEvent], suffix: str) -> None:
    approvals = [e for e in events if e.type == APPROVED]
    if not approvals:
        return
    done = set(
        await conn.scalars(
            text(f"SELECT doctor_id FROM part1_completions{suffix} WHERE doctor_id = ANY(:ids)"),
            {"ids": sorted({e.stream_id for e in approvals})},
        )
    )
    candidates = await _candidates(conn, [e for e in approvals if e.stream_id not in done])
    folds = _Folds(await _streams_upto(conn, {e.stream_id: e.version for e, _, _ in candidates}))
    completed: list[tuple[RecordedEvent, ObjectiveApproved, str | None]] = []
    for event, approval, catalogue in candidates:
        if event.stream_id in done:
            continue
        result = progress(folds.state_at(event), catalogue, approval.approved_on)
        part1 = next((p for p in result.parts if p.part == 1), None)
        if part1 is None or part1.total == 0 or part1.approved < part1.total:
            continue
        done.add(event.stream_id)
        completed.append((event, approval, result.catalogue_version))
    await _record(conn, completed, suffix)


async def _candidates(conn: AsyncConnection, pending: list[RecordedEvent]) -> list[Candidate]:
    """The approvals whose catalogue version exists and whose doctor has, at that version,
    at least as many distinct approved objectives as the version has part-1 objectives."""
    if not pending:
        return []
    approved = await _approvals_upto(conn, {e.stream_id: e.version for e in pending})
    # The catalogue's events before the batch's last, in feed order: each approval is judged
    # by the catalogue as published before it in the feed, as the one-by-one path does
    # (integration.catalogue_before). A stream's versions rise in feed order.
    last = max(e.cursor for e in pending)
    published = (
        await conn.execute(
            text(
                "SELECT transaction_id, position, version FROM events "
                "WHERE stream_id = 'catalogue-annex2' AND (transaction_id, position) < (:t, :p) "
                "ORDER BY transaction_id, position"
            ),
            {"t": last.transaction_id, "p": last.position},
        )
    ).all()
    cursors = [Cursor(row.transaction_id, row.position) for row in published]
    seen: dict[str, tuple[int, set[str]]] = {}  # doctor -> (approvals counted, objectives)
    part1_totals: dict[int, int] = {}  # by id() of a catalogue version, for this batch
    database = database_of(conn)
    out: list[Candidate] = []
    for event in pending:
        approval = decode_event(event)
        assert isinstance(approval, ObjectiveApproved)
        before = bisect_left(cursors, event.cursor)  # catalogue events before this one
        catalogue = await catalogue_at(
            conn, published[before - 1].version if before else 0, database
        )
        version = catalogue.version_on(approval.approved_on)
        if version is None:
            continue
        total = part1_totals.get(id(version))
        if total is None:
            total = sum(1 for o in version.objectives.values() if o.part == 1)
            part1_totals[id(version)] = total
        rows = approved.get(event.stream_id, [])
        counted, objectives = seen.get(event.stream_id, (0, set()))
        while counted < len(rows) and rows[counted][0] <= event.version:
            objective = rows[counted][1]
            if objective is not None:  # count(DISTINCT) in the one-by-one path skips NULLs
                objectives.add(objective)
            counted += 1
        seen[event.stream_id] = (counted, objectives)
        if len(objectives) >= total:
            out.append((event, approval, catalogue))
    return out


async def _approvals_upto(
    conn: AsyncConnection, upto: dict[str, int]
) -> dict[str, list[tuple[int, str | None]]]:
    """Each doctor's approvals (version, objective id) up to a version, in version order."""
    rows = await conn.execute(
        text(
            "SELECT e.stream_id, e.version, e.data->>'objective_id' AS objective FROM events e "
            "JOIN unnest(CAST(:ids AS text[]), CAST(:vs AS int[])) AS k(s, v) "
            "ON e.stream_id = k.s AND e.version <= k.v "
            f"WHERE e.type = '{APPROVED}' ORDER BY e.stream_id, e.version"
        ),
        {"ids": list(upto), "vs": list(upto.values())},
    )
    out: dict[str, list[tuple[int, str | None]]] = {}
    for row in rows:
        out.setdefault(row.stream_id, []).append((row.version, row.objective))
    return out


async def _streams_upto(
    conn: AsyncConnection, upto: dict[str, int]
) -> dict[str, list[tuple[int, Event]]]:
    """Each doctor's events (version, decoded) up to a version, in version order."""
    if not upto:
        return {}
    rows = await conn.execute(
        text(
            "SELECT e.stream_id, e.version, e.type, e.schema_version, e.data::text AS data "
            "FROM events e JOIN unnest(CAST(:ids AS text[]), CAST(:vs AS int[])) AS k(s, v) "
            "ON e.stream_id = k.s AND e.version <= k.v ORDER BY e.stream_id, e.version"
        ),
        {"ids": list(upto), "vs": list(upto.values())},
    )
    out: dict[str, list[tuple[int, Event]]] = {}
    for row in rows:
        event = registry.decode(row.type, row.schema_version, row.data.encode())
        out.setdefault(row.stream_id, []).append((row.version, event))
    return out


class _Folds:
    """Doctors' states folded forward as the batch's candidate approvals come in order."""

    def __init__(self, streams: dict[str, list[tuple[int, Event]]]) -> None:
        self.streams = streams
        self.folded: dict[str, tuple[int, Any]] = {}  # doctor -> (events folded, state)

    def state_at(self, event: RecordedEvent) -> Any:
        rows = self.streams.get(event.stream_id, [])
        folded, state = self.folded.get(event.stream_id, (0, DOCTORS.initial()))
        while folded < len(rows) and rows[folded][0] <= event.version:
            state = DOCTORS.evolve(state, rows[folded][1])
            folded += 1
        self.folded[event.stream_id] = (folded, state)
        return state


async def _record(
    conn: AsyncConnection,
    completed: list[tuple[RecordedEvent, ObjectiveApproved, str | None]],
    suffix: str,
) -> None:
    if not completed:
        return
    await conn.execute(
        text(
            f"INSERT INTO part1_completions{suffix} (doctor_id, approved_on, position) "
            "SELECT * FROM unnest(CAST(:d AS text[]), CAST(:on AS date[]), CAST(:p AS bigint[]))"
        ),
        {
            "d": [e.stream_id for e, _, _ in completed],
            "on": [a.approved_on for _, a, _ in completed],
            "p": [e.position for e, _, _ in completed],
        },
    )
    if suffix:
        return  # a rebuild recomputes the table; the messages were sent already
    messages = [message_for(e, a, version) for e, a, version in completed]
    await conn.execute(
        text(
            "INSERT INTO integration_outbox (message_id, subject, payload, position) "
            "SELECT m, CAST(:s AS text), p, pos FROM unnest(CAST(:m AS text[]), "
            "CAST(:p AS bytea[]), CAST(:pos AS bigint[])) AS u(m, p, pos) "
            "ON CONFLICT (message_id) DO NOTHING"
        ),
        {
            "m": [m.message_id for m in messages],
            "s": SUBJECT,
            "p": [msgspec.json.encode(m) for m in messages],
            "pos": [m.event_position for m in messages],
        },
    )
