"""The cost of one write as a doctor's history grows: ``run_command`` (load, decide, append,
a snapshot every N events) on streams of 10, 100 and 1,000 events.

Measured twice: as a process runs (a stream written again is loaded from the state the
process kept, ``services.state_cache``) and with that cache off (every load decodes the
snapshot and folds the tail), so the figure for a record's first write in a process is
there too. ``python -m bench.profile write_cost`` profiles each length apart."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench import generator
from bench.core import Figure, Options, Servers, percentile
from bench.dataset_writer import write_streams
from bench.lag_cost_figures import _write_world
from bench.world import Stream, World, objectives_of

LENGTHS = (10, 100, 1000)
DOCTORS_PER_LENGTH = 3
VEILEDER = "7000001"
START = date(2020, 3, 2)


def _history(world: World, rng: random.Random, length: int) -> Stream:
    """A doctor in a hospital post with a veileder (R5) and ``length`` events, mostly
    assessments and approvals."""
    from domain.doctor import commands as cmd
    from domain.doctor.state import DoctorState, fold

    hospital = world.hospitals[0]
    leader = world.leaders[hospital][0]
    objectives = objectives_of(world, 1, "hospital", None)
    doctor_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    b = generator.DoctorBuilder(world, rng, doctor_id)
    b.do(cmd.RegisterDoctor(doctor_id=doctor_id, authorised_on=START, registered_on=START))
    b.do(
        cmd.RecordServicePeriod(
            doctor_id=doctor_id,
            period_id="p-1",
            org_number=hospital,
            part=1,
            arena="hospital",
            position="LIS1",
            fte_percent=100,
            start=START,
        )
    )
    b.assign_veileder(hospital, 1, None, START, hpr=VEILEDER)
    k = 0
    while len(b.events) < length:
        objective, on = objectives[k % len(objectives)], START + timedelta(days=k % 1500)
        b.do(_assessment(doctor_id, objective, hospital, on))
        if len(b.events) < length and k < len(objectives):
            approval = cmd.ApproveObjective(
                doctor_id=doctor_id,
                objective_id=objective,
                org_number=hospital,
                approver_hpr=leader,
                approved_on=on + timedelta(days=2),
            )
            b.do(approval, approvals=True)
        k += 1
    events = b.events[:length]
    return Stream("doctor", doctor_id, events, fold(DoctorState(), events))


def _assessment(doctor_id: str, objective: str, org_number: str, on: date) -> Any:
    from domain.doctor import commands as cmd

    return cmd.AssessObjective(
        doctor_id=doctor_id,
        objective_id=objective,
        org_number=org_number,
        assessor_hpr=VEILEDER,
        assessor_role="veileder",
        outcome="achieved",
        assessed_on=on,
    )


async def _timed_writes(
    url: str,
    world: World,
    streams: dict[int, list[str]],
    writes: int,
    profilers: dict[int, Any],
) -> dict[int, list[float]]:
    """ms per write at each length, the lengths interleaved so the machine's slow moments
    hit them alike."""
    from domain.doctor.decide import decide
    from domain.doctor.state import DoctorState
    from services.aggregates import DOCTOR
    from services.application.streams import run_command
    from services.store.database import create_engine

    hospital = world.hospitals[0]
    objectives = objectives_of(world, 1, "hospital", None)
    metadata = {"actor": {"kind": "organisation", "org_number": hospital}, "request_id": None}
    timings: dict[int, list[float]] = {n: [] for n in LENGTHS}
    engine = create_engine(url, pool_size=2)
    try:
        for i in range(writes):
            for length in LENGTHS:
                doctor_id = streams[length][i % DOCTORS_PER_LENGTH]
                command = _assessment(
                    doctor_id,
                    objectives[i % len(objectives)],
                    hospital,
                    date(2024, 1, 1) + timedelta(days=i),
                )

                def decision(state: DoctorState, _v: int, c: Any = command) -> Any:
                    return decide(c, state, catalogue=world.catalogue)

                if length in profilers:
                    profilers[length].start()
                t0 = time.perf_counter()
                async with engine.begin() as conn:
                    await run_command(
                        conn,
                        DOCTOR,
                        doctor_id,
                        expected_version=None,
                        decide=decision,
                        metadata=metadata,
                    )
                timings[length].append((time.perf_counter() - t0) * 1000)
                if length in profilers:
                    profilers[length].stop()
    finally:
        await engine.dispose()
    return timings


def _figures(
    timings: dict[int, list[float]], opts: Options, suffix: str, note: str
) -> list[Figure]:
    # Several "runs": the timings cut into consecutive slices, a median of each.
    slices = 1 if opts.quick else opts.runs
    figures: list[Figure] = []
    for length in LENGTHS:
        values = timings[length]
        size = len(values) // slices
        medians = [percentile(values[k * size : (k + 1) * size], 50) for k in range(slices)]
        f = Figure(
            f"write_cost_{length}_events{suffix}",
            "ms",
            medians,
            group="write_cost",
            higher_is_better=False,
            note=f"{note} on a stream of {length} events; p99 {percentile(values, 99):.2f} ms",
        )
        if figures:
            f.against, f.ratio = figures[0].name, f.value / figures[0].value
        figures.append(f)
    return figures


async def write_cost(
    servers: Servers, opts: Options, profile_to: Path | None = None
) -> list[Figure]:
    """With ``profile_to``, the uncached writes at each history length are profiled apart
    (pyinstrument), into ``write_cost_<length>.txt`` there: what the growth still is."""
    from services import aggregates
    from services.store.database import create_engine

    url = await servers.fresh_database("bench_cost")
    world = await _write_world(url, 1000)
    rng = random.Random(10)
    streams: dict[int, list[str]] = {}
    engine = create_engine(url, pool_size=1)
    try:
        for length in LENGTHS:
            for _ in range(DOCTORS_PER_LENGTH):
                stream = _history(world, rng, length)
                async with engine.begin() as conn:
                    await write_streams(conn, [stream])
                streams.setdefault(length, []).append(stream.stream_id)
    finally:
        await engine.dispose()
    writes = 20 if opts.quick else 150
    profilers = _profilers() if profile_to else {}
    kept_size = aggregates.recent_states.size
    try:
        kept = await _timed_writes(url, world, streams, writes, {})
        aggregates.recent_states.resize(0)
        uncached = await _timed_writes(url, world, streams, writes, profilers)
    finally:
        aggregates.recent_states.resize(kept_size)
        await servers.drop_database("bench_cost")
    for length, profiler in profilers.items():
        assert profile_to is not None
        (profile_to / f"write_cost_{length}.txt").write_text(
            profiler.output_text(unicode=False, color=False, show_all=False)
        )
    how = f"run_command (load, decide, append, a snapshot every {aggregates.snapshot_every} events)"
    figures = _figures(kept, opts, "", f"{how}, the stream's state kept by the process")
    longest = figures[-1]
    longest.goal = "<= 1.2 x the cost at 10 events"
    longest.met = None if opts.quick else longest.ratio is not None and longest.ratio <= 1.2
    return figures + _figures(
        uncached, opts, "_uncached", f"{how}, no kept state: snapshot decoded, tail folded"
    )


def _profilers() -> dict[int, Any]:
    from pyinstrument import Profiler

    return {n: Profiler(interval=0.0002, async_mode="enabled") for n in LENGTHS}
