"""Relay + projection lag from commit to visible read model at a steady load."""

from __future__ import annotations

import asyncio
import bisect
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from bench import dataset_writer, generator
from bench.core import ROOT, Figure, Options, Servers, log, percentile, stop_processes
from bench.world import Stream, World, build_world

LAG_RATE = 500  # events/s


async def _write_world(url: str, n_doctors: int) -> World:
    from services.store.database import create_engine

    world = build_world(n_doctors)
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await dataset_writer.write_streams(conn, [world.catalogue_stream, *world.org_streams])
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


Cursor = tuple[int, int]


async def checkpoint(poll: asyncpg.Connection) -> Cursor:
    """Where the domain_states projection stands in the feed."""
    return (await checkpoints(poll))[1]


async def checkpoints(poll: asyncpg.Connection) -> tuple[Cursor, Cursor]:
    """Where the relay (published and acked) and the domain_states projection stand."""
    relayed, projected = await poll.fetchrow(
        "SELECT (SELECT ARRAY[transaction_id, position] FROM relay_checkpoints "
        "        ORDER BY transaction_id DESC, position DESC LIMIT 1), "
        "       (SELECT ARRAY[transaction_id, position] FROM projection_checkpoints "
        "        WHERE projection = 'domain_states')"
    )
    return _cursor(relayed), _cursor(projected)


def _cursor(pair: list[int] | None) -> Cursor:
    return (0, 0) if pair is None else (int(pair[0]), int(pair[1]))


def _first_seen(observed: list[tuple[float, Cursor]], commits: dict[Cursor, float]) -> list[float]:
    """Per event, ms from its commit to the first observation at or past its cursor."""
    cursors = [c for _, c in observed]
    return [
        (observed[bisect.bisect_left(cursors, cursor)][0] - committed) * 1000
        for cursor, committed in commits.items()
    ]


APPENDERS = 16
Commits = dict[Cursor, float]  # feed cursor -> when its transaction committed
Observations = list[tuple[float, Cursor]]  # (when, where a checkpoint stood)


async def _lag_run(
    servers: Servers, run_no: int, seconds: float
) -> tuple[list[float], list[float], float]:
    """One run: the lags (ms) to the read model, the same events' lags to the relay's
    checkpoint (published and acked by JetStream), and the achieved rate."""
    from services.store.database import create_engine

    url = await servers.fresh_database("bench_lag")
    n_doctors = 300
    world = await _write_world(url, n_doctors)
    streams = [generator.build_doctor(world, 7, i).stream for i in range(n_doctors)]
    stream_name = f"BENCH_LAG_{run_no}_{uuid.uuid4().hex[:6].upper()}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "NATS_URL": servers.nats.url,
        "KOMPETANSE_STREAM": stream_name,
        "LOG_LEVEL": "warning",
        "LOG_JSON": "true",
    }
    logfile = (servers.workdir / "lag-processes.log").open("ab")
    procs = [_start(["relay"], env, logfile), _start(["projector"], env, logfile)]
    engine = create_engine(url, pool_size=8)
    poll = await asyncpg.connect(url)
    try:
        await _wait_until_flowing(poll)
        commits: Commits = {}
        relayed: Observations = []
        observed: Observations = []
        stop = asyncio.Event()
        poll_task = asyncio.create_task(_poll(poll, relayed, observed, stop))
        t_start = time.perf_counter() + 0.2
        await asyncio.gather(
            *(
                _append_paced(engine, streams[w::APPENDERS], t_start, seconds, commits)
                for w in range(APPENDERS)
            )
        )
        achieved = len(commits) / (time.perf_counter() - t_start)
        await _wait_until_observed(observed, max(commits))
        stop.set()
        await poll_task
        lags = _first_seen(observed, commits)
        relay_lags = _first_seen(relayed, commits)
        log(
            f"lag run {run_no + 1}: {len(lags)} events at {achieved:.0f}/s: "
            f"p50 {percentile(lags, 50):.1f} ms, p99 {percentile(lags, 99):.1f} ms, "
            f"max {max(lags):.1f} ms; to the relay's checkpoint p50 "
            f"{percentile(relay_lags, 50):.1f} ms, p99 {percentile(relay_lags, 99):.1f} ms"
        )
        return lags, relay_lags, achieved
    finally:
        await poll.close()
        await engine.dispose()
        stop_processes(procs)
        logfile.close()
        await servers.drop_database("bench_lag")
        await _delete_stream(servers.nats.url, stream_name)


async def _wait_until_flowing(poll: asyncpg.Connection) -> None:
    """Ready when the projector has created its checkpoint rows and the relay holds its
    lock: the world's events have gone all the way through."""
    deadline = time.monotonic() + 60
    while not await poll.fetchval(
        "SELECT count(*) FROM projection_checkpoints WHERE projection='domain_states'"
    ):
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


async def _poll(
    poll: asyncpg.Connection, relayed: Observations, observed: Observations, stop: asyncio.Event
) -> None:
    """Where the relay and the projection stand, every 2 ms until told to stop."""
    while not stop.is_set():
        relay_at, projected_at = await checkpoints(poll)
        now = time.perf_counter()
        relayed.append((now, relay_at))
        observed.append((now, projected_at))
        await asyncio.sleep(0.002)


async def _append_paced(
    engine: AsyncEngine, mine: list[Stream], t_start: float, seconds: float, commits: Commits
) -> None:
    """One appender: its streams' events round-robin (each stream in order), at
    ``LAG_RATE / APPENDERS`` a second from ``t_start`` for ``seconds``."""
    from services.store import eventstore

    rate = LAG_RATE / APPENDERS
    longest = max(len(s.events) for s in mine)
    order = [(s, idx) for idx in range(longest) for s in mine if idx < len(s.events)]
    for k, (s, idx) in enumerate(order):
        due = t_start + k / rate
        if due - t_start >= seconds:
            return
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        async with engine.begin() as conn:
            recorded = await eventstore.append(
                conn,
                stream_type="doctor",
                stream_id=s.stream_id,
                expected_version=idx,
                events=dataset_writer.new_events([s.events[idx]]),
            )
        commits[(recorded[0].transaction_id, recorded[0].position)] = time.perf_counter()


async def _wait_until_observed(observed: Observations, last: Cursor) -> None:
    deadline = time.monotonic() + 60
    while not observed or observed[-1][1] < last:
        if time.monotonic() > deadline:
            raise RuntimeError("projection did not catch up within 60 s")
        await asyncio.sleep(0.01)


async def lag(servers: Servers, opts: Options) -> list[Figure]:
    seconds = 5.0 if opts.quick else max(20.0, opts.duration * 4)
    runs = 1 if opts.quick else opts.runs
    p50s, p99s, maxes, rates, relay_p50s, relay_p99s = [], [], [], [], [], []
    for run_no in range(runs):
        lags, relay_lags, achieved = await _lag_run(servers, run_no, seconds)
        p50s.append(percentile(lags, 50))
        p99s.append(percentile(lags, 99))
        maxes.append(max(lags))
        rates.append(achieved)
        relay_p50s.append(percentile(relay_lags, 50))
        relay_p99s.append(percentile(relay_lags, 99))
    relay_note = "commit to the relay's checkpoint (published, acked by JetStream, recorded)"
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
        Figure(
            "projection_lag_relay_p50",
            "ms",
            relay_p50s,
            group="lag",
            higher_is_better=False,
            note=relay_note,
        ),
        Figure("projection_lag_relay_p99", "ms", relay_p99s, group="lag", higher_is_better=False),
    ]
