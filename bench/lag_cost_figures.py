"""Relay + projection lag from commit to visible read model at a steady load, and the cost
of one write as a doctor's history grows."""

from __future__ import annotations

import asyncio
import bisect
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg

from bench import generator
from bench.core import ROOT, Figure, Options, Servers, log, percentile

LAG_RATE = 500  # events/s


async def _write_world(url: str, n_doctors: int) -> generator.World:
    from services.store.database import create_engine

    world = generator.build_world(n_doctors)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await generator._write_streams(conn, [world.catalogue_stream, *world.org_streams])
    finally:
        await engine.dispose()
    return world


async def _delete_stream(nats_url: str, name: str) -> None:
    """Streams of successive runs share the subjects, so a run removes its own."""
    import contextlib

    import nats

    nc = await nats.connect(nats_url)
    try:
        with contextlib.suppress(Exception):
            await nc.jetstream().delete_stream(name)
    finally:
        await nc.close()


def _start(role: list[str], env: dict[str, str], logfile: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *role],
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )


async def checkpoint(poll: asyncpg.Connection) -> tuple[int, int]:
    """Where the domain_states projection stands in the feed."""
    row = await poll.fetchrow(
        "SELECT transaction_id, position FROM projection_checkpoints "
        "WHERE projection='domain_states'"
    )
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


async def _lag_run(servers: Servers, run_no: int, seconds: float) -> list[float]:
    """One run: returns the lags (ms) and, last, the achieved rate."""
    from services.store import eventstore
    from services.store.database import create_engine

    url = await servers.fresh_database("bench_lag")
    n_doctors = 300
    world = await _write_world(url, n_doctors)
    streams = [generator.build_doctor(world, 7, i).stream for i in range(n_doctors)]
    stream_name = f"BENCH_LAG_{run_no}_{uuid.uuid4().hex[:6].upper()}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "NATS_URL": servers.nats_url,
        "KOMPETANSE_STREAM": stream_name,
        "LOG_LEVEL": "warning",
        "LOG_JSON": "true",
    }
    logfile = (servers.workdir / "lag-processes.log").open("ab")
    procs = [_start(["relay"], env, logfile), _start(["projector"], env, logfile)]
    engine = create_engine(url, pool_size=8)
    poll = await asyncpg.connect(url)
    try:
        # Ready when the projector has created its checkpoint rows and the relay holds
        # its lock (a first event goes all the way through).
        deadline = time.monotonic() + 60
        while True:
            n = await poll.fetchval(
                "SELECT count(*) FROM projection_checkpoints WHERE projection='domain_states'"
            )
            if n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("projector did not start")
            await asyncio.sleep(0.1)
        head = tuple(
            await poll.fetchrow(
                "SELECT transaction_id, position FROM events "
                "ORDER BY transaction_id DESC, position DESC LIMIT 1"
            )
        )
        while await checkpoint(poll) < head:
            if time.monotonic() > deadline:
                raise RuntimeError("the feed did not catch up with the world's events")
            await asyncio.sleep(0.1)
        commits: dict[tuple[int, int], float] = {}  # by feed cursor
        observed: list[tuple[float, tuple[int, int]]] = []
        stop = asyncio.Event()

        async def poller() -> None:
            while not stop.is_set():
                observed.append((time.perf_counter(), await checkpoint(poll)))
                await asyncio.sleep(0.002)

        workers = 16
        per_worker_rate = LAG_RATE / workers
        t_start = time.perf_counter() + 0.2

        async def appender(w: int) -> None:
            mine = [s for k, s in enumerate(streams) if k % workers == w]
            order = []
            longest = max(len(s.events) for s in mine)
            for idx in range(longest):
                for s in mine:
                    if idx < len(s.events):
                        order.append((s, idx))
            k = 0
            while True:
                due = t_start + k / per_worker_rate
                if due - t_start >= seconds or k >= len(order):
                    return
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                s, idx = order[k]
                async with engine.begin() as conn:
                    recorded = await eventstore.append(
                        conn,
                        stream_type="doctor",
                        stream_id=s.stream_id,
                        expected_version=idx,
                        events=generator.new_events([s.events[idx]]),
                    )
                commits[(recorded[0].transaction_id, recorded[0].position)] = time.perf_counter()
                k += 1

        poll_task = asyncio.create_task(poller())
        await asyncio.gather(*(appender(w) for w in range(workers)))
        achieved = len(commits) / (time.perf_counter() - t_start)
        last = max(commits)
        deadline = time.monotonic() + 60
        while not observed or observed[-1][1] < last:
            if time.monotonic() > deadline:
                raise RuntimeError("projection did not catch up within 60 s")
            await asyncio.sleep(0.01)
        stop.set()
        await poll_task
        cursors = [c for _, c in observed]
        lags = []
        for cursor, committed in commits.items():
            i = bisect.bisect_left(cursors, cursor)
            lags.append((observed[i][0] - committed) * 1000)
        log(
            f"lag run {run_no + 1}: {len(lags)} events at {achieved:.0f}/s: "
            f"p50 {percentile(lags, 50):.1f} ms, p99 {percentile(lags, 99):.1f} ms, "
            f"max {max(lags):.1f} ms"
        )
        return [*lags, achieved]
    finally:
        await poll.close()
        await engine.dispose()
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        logfile.close()
        await servers.drop_database("bench_lag")
        await _delete_stream(servers.nats_url, stream_name)


async def lag(servers: Servers, opts: Options) -> list[Figure]:
    seconds = 5.0 if opts.quick else max(20.0, opts.duration * 4)
    runs = 1 if opts.quick else opts.runs
    p50s, p99s, maxes, rates = [], [], [], []
    for run_no in range(runs):
        *lags, achieved = await _lag_run(servers, run_no, seconds)
        p50s.append(percentile(lags, 50))
        p99s.append(percentile(lags, 99))
        maxes.append(max(lags))
        rates.append(achieved)
    note = (
        f"relay and projector as processes (python -m services.cli relay|projector), "
        f"{LAG_RATE} events/s offered by 16 appenders, commit to domain_states checkpoint "
        "(same transaction as the row) visible; polled every 2 ms"
    )
    return [
        Figure("projection_lag_p50", "ms", p50s, group="lag", higher_is_better=False, note=note),
        Figure(
            "projection_lag_p99",
            "ms",
            p99s,
            goal="<= 250 ms at 500 events/s",
            # Met only if the offered 500 events/s were actually sustained (within 5 %).
            met=None
            if opts.quick
            else percentile(p99s, 50) <= 250 and percentile(rates, 50) >= 0.95 * LAG_RATE,
            note="goal judged only at the rate actually sustained (projection_lag_load)",
            group="lag",
            higher_is_better=False,
        ),
        Figure("projection_lag_max", "ms", maxes, group="lag", higher_is_better=False),
        Figure("projection_lag_load", "events/s", rates, group="lag", note="achieved append rate"),
    ]


# Write cost against history length ---------------------------------------------------------
async def write_cost(servers: Servers, opts: Options) -> list[Figure]:
    from domain.doctor import commands as cmd
    from domain.doctor.decide import decide
    from domain.doctor.state import DoctorState, fold
    from services import aggregates
    from services.aggregates import DOCTOR
    from services.application.streams import run_command
    from services.store.database import create_engine

    url = await servers.fresh_database("bench_cost")
    world = await _write_world(url, 1000)
    hospital = world.hospitals[0]
    leader = world.leaders[hospital][0]
    lengths = (10, 100, 1000)
    doctors_per_length = 3
    objectives = generator._objectives(world, 1, "hospital", None)
    streams: dict[int, list[str]] = {}
    rng = random.Random(10)
    for length in lengths:
        for _ in range(doctors_per_length):
            doctor_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            b = generator.DoctorBuilder(world, rng, doctor_id)
            start = date(2020, 3, 2)
            b.do(cmd.RegisterDoctor(doctor_id=doctor_id, authorised_on=start, registered_on=start))
            b.do(
                cmd.RecordServicePeriod(
                    doctor_id=doctor_id,
                    period_id="p-1",
                    org_number=hospital,
                    part=1,
                    arena="hospital",
                    position="LIS1",
                    fte_percent=100,
                    start=start,
                )
            )
            # R5: the assessor is the doctor's appointed veileder.
            b.do(
                cmd.AssignSupervisor(
                    doctor_id=doctor_id,
                    org_number=hospital,
                    hpr_number="7000001",
                    role="veileder",
                    valid_from=start,
                    part=1,
                )
            )
            k = 0
            while len(b.events) < length:
                objective = objectives[k % len(objectives)]
                on = start + timedelta(days=k % 1500)
                b.do(
                    cmd.AssessObjective(
                        doctor_id=doctor_id,
                        objective_id=objective,
                        org_number=hospital,
                        assessor_hpr="7000001",
                        assessor_role="veileder",
                        outcome="achieved",
                        assessed_on=on,
                    )
                )
                if len(b.events) < length and k < len(objectives):
                    b.do(
                        cmd.ApproveObjective(
                            doctor_id=doctor_id,
                            objective_id=objective,
                            org_number=hospital,
                            approver_hpr=leader,
                            approved_on=on + timedelta(days=2),
                        ),
                        approvals=True,
                    )
                k += 1
            b.events = b.events[:length]
            streams.setdefault(length, []).append(doctor_id)
            engine = create_engine(url, pool_size=1)
            try:
                state = fold(DoctorState(), b.events)
                async with engine.begin() as conn:
                    await generator._write_streams(
                        conn, [generator.Stream("doctor", doctor_id, b.events, state)]
                    )
            finally:
                await engine.dispose()
    engine = create_engine(url, pool_size=2)
    writes = 20 if opts.quick else 150
    timings: dict[int, list[float]] = {n: [] for n in lengths}
    metadata = {"actor": {"kind": "organisation", "org_number": hospital}, "request_id": None}
    try:
        for i in range(writes):
            for length in lengths:
                doctor_id = streams[length][i % doctors_per_length]
                command = cmd.AssessObjective(
                    doctor_id=doctor_id,
                    objective_id=objectives[i % len(objectives)],
                    org_number=hospital,
                    assessor_hpr="7000001",
                    assessor_role="veileder",
                    outcome="achieved",
                    assessed_on=date(2024, 1, 1) + timedelta(days=i),
                )

                def decision(state: DoctorState, _v: int, c: Any = command) -> Any:
                    return decide(c, state, catalogue=world.catalogue)

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
    finally:
        await engine.dispose()
        await servers.drop_database("bench_cost")
    # Several "runs": the timings cut into consecutive slices, a median of each.
    slices = 1 if opts.quick else opts.runs

    def run_medians(values: list[float]) -> list[float]:
        size = len(values) // slices
        return [percentile(values[k * size : (k + 1) * size], 50) for k in range(slices)]

    figures = []
    base = None
    for length in lengths:
        medians = run_medians(timings[length])
        f = Figure(
            f"write_cost_{length}_events",
            "ms",
            medians,
            group="write_cost",
            higher_is_better=False,
            note=f"run_command (snapshot + tail load, decide, append, a snapshot every "
            f"{aggregates.snapshot_every} events) on a stream of "
            f"{length} events; p99 {percentile(timings[length], 99):.2f} ms",
        )
        if base is None:
            base = f
        else:
            f.against, f.ratio = base.name, f.value / base.value
        if length == 1000:
            f.goal = "<= 1.2 x the cost at 10 events"
            f.met = None if opts.quick else bool(f.ratio is not None and f.ratio <= 1.2)
        figures.append(f)
    return figures
