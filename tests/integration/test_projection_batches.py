"""Projections in batches and the one-pass rebuild, against a real PostgreSQL.

- Each projection's batch path gives exactly the rows (and outbox messages) that applying
  the same events one at a time gives, whatever the batch boundaries (several generated
  data sets, random batch sizes).
- One pass over the store for all projections gives the read models the events applied one
  by one give.
- Writes arriving during a rebuild, with a live projector running, are all in the read
  models afterwards, each exactly once.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date
from typing import Any

import msgspec
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench import dataset_writer, generator
from services.processes import all_projections
from services.projector.integration import Part1Completion
from services.projector.projection import Projection
from services.projector.read_models import DomainStates
from services.projector.rebuild import rebuild
from services.projector.runtime import apply_all, apply_in_transaction, ensure_tables
from services.projector.stream_summary import StreamSummary
from services.store import eventstore
from services.store.database import create_engine
from services.store.eventstore import START, Cursor, RecordedEvent
from tests.integration.helpers import (
    checkpoint_of,
    new_event,
    org_numbers,
    organisation_registered,
)

DOCTORS = 6


@pytest.fixture(autouse=True)
def small_data_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(generator.SIZES, "test", DOCTORS)


@pytest.fixture
def most_objectives_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bench generator registers about a third of the objectives; here nearly every
    one, so many doctors pass ``part1_completion``'s cheap test (without completing: some
    objective is always left out of the 151 of part 1)."""
    monkeypatch.setattr(generator, "OBJECTIVE_SHARE", 10.0)


def part1_path() -> list[Any]:
    """A doctor's events through LIS1 under the sample catalogue, every part-1 objective
    approved, the hospital's before the municipality's (so the last approval completes)."""
    from domain.catalogue import path_objectives
    from tests.unit.builders import (
        HOSPITAL,
        LEADER_H,
        LEADER_M,
        MUNICIPALITY,
        World,
        sample_catalogue,
    )
    from tests.unit.test_readiness import veileder

    w = World(authorised_on=date(2019, 6, 1))
    w.catalogue = sample_catalogue(versions=1)
    w.period("h1", "2019-09-01", "2020-08-31", arena="hospital")
    w.period("m1", "2020-09-01", "2021-02-28", arena="municipal")
    veileder(w, HOSPITAL, 1, "2019-09-01")
    veileder(w, MUNICIPALITY, 1, "2020-09-01")
    part1 = [o for o in path_objectives(w.catalogue.versions[0], None) if o.part == 1]
    for o in sorted(part1, key=lambda o: o.arena != "hospital"):
        org, leader, on, approved_on = (
            (HOSPITAL, LEADER_H, "2020-08-01", "2020-08-15")
            if o.arena == "hospital"
            else (MUNICIPALITY, LEADER_M, "2021-02-01", "2021-02-15")
        )
        w.assess(o.id, org, on)
        assert isinstance(w.approve(o.id, org, leader, approved_on), list)
    return list(w.events)


async def generate(url: str, seed: int) -> None:
    """The generator's doctors, then three who complete part 1, their events interleaved so
    that batches cut across them."""
    await dataset_writer.load(url, "test", seed=seed)
    events = dataset_writer.new_events(part1_path())
    engine = create_engine(url)
    try:
        for start in range(0, len(events), 25):
            for doctor in ("done-1", "done-2", "done-3"):
                chunk = [
                    msgspec.structs.replace(e, event_id=uuid.uuid4())
                    for e in events[start : start + 25]
                ]
                async with engine.begin() as conn:
                    await eventstore.append(
                        conn,
                        stream_type="doctor",
                        stream_id=doctor,
                        expected_version=start,
                        events=chunk,
                    )
    finally:
        await engine.dispose()


NUMBERS = org_numbers(930_000_000)  # organisations of the writers, never the same twice


async def rows(conn: AsyncConnection, table: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


async def outbox(conn: AsyncConnection) -> list[tuple[Any, ...]]:
    result = await conn.execute(
        text("SELECT message_id, subject, payload, position FROM integration_outbox ORDER BY 1")
    )
    return [tuple(r) for r in result]


def batches(events: list[RecordedEvent], rng: random.Random) -> list[list[RecordedEvent]]:
    """Uneven batches, from single events to a few hundred, cutting across streams."""
    out, start = [], 0
    while start < len(events):
        size = rng.choice((1, 2, 7, 37, 150, 400))
        out.append(events[start : start + size])
        start += size
    return out


async def applied(
    engine: AsyncEngine,
    projection: Projection,
    events: list[RecordedEvent],
    rng: random.Random | None,
) -> tuple[dict[str, list[tuple[Any, ...]]], list[tuple[Any, ...]]]:
    """The projection's live tables and the outbox after applying ``events`` one by one
    (``rng`` None) or in random batches, rolled back afterwards."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            if rng is None:
                for event in events:
                    await projection.apply(conn, event, "")
            else:
                for batch in batches(events, rng):
                    await apply_all(conn, projection, batch, "")
            tables = {t: await rows(conn, t) for t in projection.tables}
            return tables, await outbox(conn)
        finally:
            await transaction.rollback()


@pytest.mark.parametrize("seed", [3, 11])
@pytest.mark.usefixtures("most_objectives_registered")
async def test_batch_paths_equal_one_by_one(database_url: str, seed: int) -> None:
    await generate(database_url, seed)
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for projection in (StreamSummary(), Part1Completion()):
                await ensure_tables(conn, projection)
            events = await eventstore.read_feed(conn, after=START, limit=1_000_000)
        for projection in (StreamSummary(), Part1Completion()):
            one, one_outbox = await applied(engine, projection, events, None)
            assert all(one.values()), f"{projection.name}: nothing to compare"
            for run in range(3):
                rng = random.Random(seed * 100 + run)
                batch, batch_outbox = await applied(engine, projection, events, rng)
                assert batch == one, projection.name
                assert batch_outbox == one_outbox, projection.name
        assert one_outbox, "no part-1 completion in the data set: the test would prove nothing"
    finally:
        await engine.dispose()


async def test_one_pass_rebuild_equals_events_applied_one_by_one(database_url: str) -> None:
    await generate(database_url, 5)
    engine = create_engine(database_url)
    projections = all_projections()
    try:
        async with engine.begin() as conn:
            for projection in projections:
                await ensure_tables(conn, projection)
            events = await eventstore.read_feed(conn, after=START, limit=1_000_000)
            for projection in projections:
                for event in events:
                    await projection.apply(conn, event, "")
        async with engine.connect() as conn:
            live = {t: await rows(conn, t) for p in projections for t in p.tables}
        # The generator makes no applications (the e2e test rebuilds those); the rest must
        # have rows, or the comparison would prove nothing.
        assert all(r for t, r in live.items() if t != "application_queue"), "a model is empty"
        position = await rebuild(engine, *projections, batch_size=333)
        async with engine.connect() as conn:
            rebuilt = {t: await rows(conn, t) for p in projections for t in p.tables}
            result = await conn.execute(
                text("SELECT projection, transaction_id, position FROM projection_checkpoints")
            )
            checkpoints = {r.projection: Cursor(r.transaction_id, r.position) for r in result}
        assert rebuilt == live
        assert position == events[-1].cursor
        assert all(checkpoints[p.name] == position for p in projections)
    finally:
        await engine.dispose()


async def _live_projector(
    engine: AsyncEngine, projections: list[Projection], stop: asyncio.Event
) -> None:
    """What the live projectors do, fed from the store instead of the stream: each batch
    through ``apply_in_transaction`` (checkpoint lock, skip what is at or below it)."""
    while True:
        stopping = stop.is_set()
        for projection in projections:
            checkpoint = await checkpoint_of(engine, projection.name)
            async with engine.begin() as conn:
                events = await eventstore.read_feed(conn, after=checkpoint, limit=50)
                await apply_in_transaction(conn, projection, [(e, None) for e in events])
        if stopping:
            return
        await asyncio.sleep(0)


async def _write(engine: AsyncEngine, until: asyncio.Task[Cursor] | int) -> int:
    """Append to new and existing streams until the rebuild is done (or ``until`` events
    are written); return how many."""
    written = 0
    while not until.done() if isinstance(until, asyncio.Task) else written < until:
        async with engine.begin() as conn:
            number = next(NUMBERS)
            await eventstore.append(
                conn,
                stream_type="organisation",
                stream_id=f"org-{number}",
                expected_version=0,
                events=[organisation_registered(number)],
            )
            # Existing streams too (a type the state read models do not keep).
            await eventstore.append(
                conn,
                stream_type="application",
                stream_id=f"load-{written % 7}",
                expected_version=None,
                events=[new_event(n=written)],
            )
        written += 2
        await asyncio.sleep(0)
    return written


async def test_rebuild_with_writes_and_a_live_projector_loses_nothing(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=6)
    projections: list[Projection] = [StreamSummary(), DomainStates()]
    try:
        async with engine.begin() as conn:
            for projection in projections:
                await ensure_tables(conn, projection)
        await _write(engine, 300)  # something to replay
        async with engine.connect() as conn:
            head_at_start = await eventstore.head(conn)
        stop = asyncio.Event()
        live = asyncio.create_task(_live_projector(engine, projections, stop))
        rebuilding = asyncio.create_task(rebuild(engine, *projections, batch_size=20))
        written = await _write(engine, rebuilding)
        position = await rebuilding
        stop.set()
        await live
        assert written > 0 and position > head_at_start, "no write arrived during the rebuild"
        async with engine.begin() as conn:
            head = await eventstore.head(conn)
            events = await eventstore.read_feed(conn, after=START, limit=1_000_000)
            for projection in projections:
                for statement in projection.ddl("__ref"):
                    await conn.execute(text(statement))
                for event in events:
                    await projection.apply(conn, event, "__ref")
                for table in projection.tables:
                    assert await rows(conn, table) == await rows(conn, f"{table}__ref"), table
            checkpoints = await conn.execute(
                text(
                    "SELECT transaction_id, position FROM projection_checkpoints "
                    "WHERE projection = ANY(:n)"
                ),
                {"n": [p.name for p in projections]},
            )
            assert [Cursor(*c) for c in checkpoints] == [head] * len(projections)
            summary = await rows(conn, "stream_summaries")
        assert all(r[2] == r[3] for r in summary), "an event was applied twice"
    finally:
        await engine.dispose()


async def test_the_batch_path_judges_an_approval_by_the_catalogue_published_before_it(
    database_url: str,
) -> None:
    """A catalogue version published after the approvals, whose stream version (2) is far
    below its position, does not decide them: the batch path agrees with one by one. (It
    once took a position for a catalogue version and folded the later one in.)"""
    from domain.catalogue import Catalogue
    from domain.catalogue import decide as catalogue_decide
    from domain.catalogues import sample_versions
    from events.catalogue import ObjectiveSpec

    first = catalogue_decide(sample_versions()[0], Catalogue())
    assert isinstance(first, list) and len(first) == 1
    published = first[0]
    # In effect from the next day, with one more part-1 objective nobody has approved.
    revision = msgspec.structs.replace(
        published,
        version=f"{published.version}-rev",
        effective_from=date.fromordinal(published.effective_from.toordinal() + 1),
        objectives=(*published.objectives, ObjectiveSpec(id="KLS-999", part=1, title="Ny")),
    )
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await eventstore.append(
                conn,
                stream_type="organisation",
                stream_id="org-filler",
                expected_version=0,
                events=[organisation_registered(next(NUMBERS)) for _ in range(30)],
            )
        for stream_id, stream_type, events, version in (
            ("catalogue-annex2", "catalogue", [published], 0),
            ("done-1", "doctor", part1_path(), 0),
            ("catalogue-annex2", "catalogue", [revision], 1),
        ):
            async with engine.begin() as conn:
                await eventstore.append(
                    conn,
                    stream_type=stream_type,
                    stream_id=stream_id,
                    expected_version=version,
                    events=dataset_writer.new_events(events),
                )
        async with engine.begin() as conn:
            await ensure_tables(conn, Part1Completion())
            events = await eventstore.read_feed(conn, after=START, limit=100_000)
        _, one_outbox = await applied(engine, Part1Completion(), events, None)
        assert [m[0] for m in one_outbox] == ["part1-approved:done-1"]
        for seed in range(3):
            _, batch_outbox = await applied(engine, Part1Completion(), events, random.Random(seed))
            assert batch_outbox == one_outbox
    finally:
        await engine.dispose()
