"""Figures on a generated data set: bytes per event, full rebuild, progress reads, and the
HTTP write path (single events and batches) against the raw ceiling on the same server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from bench import dataset_writer, generator, progress_figures
from bench.core import ROOT, Figure, Options, Servers, latency, log, percentile
from bench.http_client import Connection, http_closed_loop
from bench.store_figures import raw_ceiling
from bench.sync_figures import nightly_sync

DATASET_DB = "bench_data"


async def load_dataset(servers: Servers, opts: Options) -> tuple[str, dict[str, Any]]:
    url = await servers.fresh_database(DATASET_DB)
    size = "quick" if opts.quick else opts.size
    log(f"generating the {size} data set ({generator.SIZES[size]} doctors) through the domain")
    info = await dataset_writer.load(url, size)
    log(f"data set: {info['events']} events in {info['seconds']:.0f} s")
    return url, info


async def fill_read_models(url: str, size: str) -> float:
    """The state read models as the projector leaves them (each stream's state after all its
    events), written from the stores' snapshots so the read figures need not wait for a
    rebuild; ``rebuild`` is measured on its own below."""
    from sqlalchemy import text

    from services.processes import all_projections
    from services.projector.runtime import ensure_tables
    from services.read_models import states
    from services.store.database import create_engine

    started = time.perf_counter()
    engine = create_engine(url, pool_size=2)
    try:
        async with engine.begin() as conn:
            for projection in all_projections():
                await ensure_tables(conn, projection)
            for table in states.TABLES.values():
                key = {
                    "doctor": "s.stream_id",
                    "organisation": "substr(s.stream_id, 5)",
                    "catalogue": "substr(s.stream_id, 11)",
                }[table.stream_type]
                await conn.execute(
                    text(
                        f"INSERT INTO {table.table} (key, stream_id, version, state, "
                        f"last_position) SELECT {key}, s.stream_id, s.version, s.state, "
                        "(SELECT max(position) FROM events e WHERE e.stream_id = s.stream_id) "
                        "FROM stream_snapshots s JOIN (SELECT DISTINCT stream_id, stream_type "
                        "FROM events) t USING (stream_id) WHERE t.stream_type = :st"
                    ),
                    {"st": table.stream_type},
                )
            await conn.execute(
                text(
                    "UPDATE projection_checkpoints SET (transaction_id, position) = "
                    "(SELECT transaction_id, position FROM events "
                    "ORDER BY transaction_id DESC, position DESC LIMIT 1)"
                )
            )
    finally:
        await engine.dispose()
    return time.perf_counter() - started


async def bytes_per_event(url: str, opts: Options) -> list[Figure]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE events")
        row = await conn.fetchrow(
            "SELECT count(*) AS n, pg_total_relation_size('events') AS total, "
            "pg_relation_size('events') AS heap, pg_indexes_size('events') AS idx, "
            "avg(octet_length(data::text)) AS data_len, "
            "avg(octet_length(metadata::text)) AS meta_len FROM events"
        )
    finally:
        await conn.close()
    n = row["n"]
    return [
        Figure(
            "bytes_per_event",
            "bytes",
            [row["total"] / n],
            group="data",
            higher_is_better=False,
            note=(
                f"pg_total_relation_size(events) / {n} events: heap {row['heap'] / n:.0f} B, "
                f"indexes {row['idx'] / n:.0f} B; payload JSON {row['data_len']:.0f} B + "
                f"metadata {row['meta_len']:.0f} B (as text)"
            ),
        )
    ]


def rebuild(url: str, opts: Options, events: int) -> list[Figure]:
    """``services.projector.rebuild.rebuild`` of every projection in one pass over the
    store, in a subprocess (its own peak RSS). Bounded in time: a rebuild that cannot finish
    in the budget is stopped and its rate taken from the events it replayed (said in the
    note)."""
    budget = 30.0 if opts.quick else float(os.environ.get("BENCH_REBUILD_BUDGET", "600"))
    runs = 1 if opts.quick or opts.size == "national" else max(1, min(opts.runs, 2))
    rates, rss, notes = [], [], []
    for _ in range(runs):
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.rebuild_worker", url, "--budget", str(budget)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        out, err = proc.communicate(timeout=budget * 2 + 120)
        if proc.returncode != 0:
            raise RuntimeError(f"rebuild worker failed: {err.decode()[-2000:]}")
        result = json.loads(out.decode().strip().splitlines()[-1])
        rates.append(result["events_per_s"])
        rss.append(result["maxrss_kb"] / 1024)
        spent = ", ".join(f"{k} {v:.1f} s" for k, v in result["seconds_in"].items())
        notes.append(
            f"{result['events']} events in {result['seconds']:.1f} s"
            + ("" if result["complete"] else " (stopped at the budget)")
            + f"; time in: {spent}"
        )
    return [
        Figure(
            "rebuild_events_per_s",
            "events/s",
            rates,
            goal=">= 20000 events/s",
            met=None if opts.quick else statistics_median(rates) >= 20_000,
            group="rebuild",
            note=f"{events} events in the store, all read models in one pass; {notes[-1]}",
        ),
        Figure(
            "rebuild_peak_rss",
            "MB",
            rss,
            goal="<= 500 MB",
            met=None if opts.quick else statistics_median(rss) <= 500,
            group="rebuild",
            higher_is_better=False,
            note="ru_maxrss of the rebuild process",
        ),
    ]


# HTTP ------------------------------------------------------------------------------------
Writer = tuple[str, str, str, str]  # doctor id, hospital, its veileder, a day in service


async def writers(url: str, count: int) -> list[Writer]:
    """Doctors with a hospital period that can take assessments (R5: by the veileder the
    hospital appointed, dated inside the service there, under the sample catalogue)."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (p.stream_id) p.stream_id, p.data->>'org_number' AS org, "
            "s.data->>'hpr_number' AS hpr, p.data->>'start' AS start "
            "FROM events p JOIN events s ON s.stream_id = p.stream_id "
            "AND s.type = 'doctor.supervisor_assigned' AND s.data->>'role' = 'veileder' "
            "AND s.data->>'org_number' = p.data->>'org_number' "
            "AND s.data->>'valid_from' = p.data->>'start' "
            "WHERE p.type = 'doctor.service_period_recorded' "
            "AND p.data->>'arena' = 'hospital' AND p.data->>'start' >= '2020-03-01' "
            "ORDER BY p.stream_id LIMIT $1",
            count,
        )
    finally:
        await conn.close()
    return [(r["stream_id"], r["org"], r["hpr"], r["start"]) for r in rows]


def assessment_body(seq: int, hpr: str, on: str) -> dict[str, Any]:
    return {
        "objective_id": f"KLS-{seq % 45 + 1:03d}",
        "assessor_hpr": hpr,
        "assessor_role": "veileder",
        "outcome": "achieved",
        "assessed_on": on,
        "method": "direkte observasjon",
        "comment": "Gjennomført med god margin.",
    }


def mint_tokens(data_dir: Path, orgs: set[str]) -> dict[str, str]:
    from services.identity.dev_issuer import DevIssuer

    issuer = DevIssuer(data_dir)
    tokens = {
        org: issuer.mint("organisation", org_number=org, ttl_seconds=6 * 3600) for org in orgs
    }
    tokens["caseworker"] = issuer.mint("caseworker", hpr_number="3000001", ttl_seconds=6 * 3600)
    return tokens


async def http_append(
    base: str, doctors: list[Writer], tokens: dict[str, str], clients: int, seconds: float
) -> Any:
    per_client = max(1, len(doctors) // clients)

    async def op(conn: Connection, i: int, seq: int) -> int:
        doctor_id, org, hpr, on = doctors[(i * per_client + seq % per_client) % len(doctors)]
        status, body = await conn.request(
            "POST",
            f"/api/v1/doctors/{doctor_id}/assessments",
            {"Authorization": f"Bearer {tokens[org]}"},
            assessment_body(seq, hpr, on),
        )
        if status != 201:
            raise RuntimeError(f"{status} {body[:200]!r}")
        return 1

    return await http_closed_loop(base, clients, seconds, op)


async def http_batch(
    base: str,
    doctors: list[Writer],
    tokens: dict[str, str],
    clients: int,
    seconds: float,
    size: int = 100,
) -> Any:
    """``POST /api/v1/batch`` with ``size`` assessments of one hospital's doctors."""
    by_org: dict[str, list[Writer]] = {}
    for writer in doctors:
        by_org.setdefault(writer[1], []).append(writer)
    orgs = sorted(by_org, key=lambda o: -len(by_org[o]))

    async def op(conn: Connection, i: int, seq: int) -> int:
        org = orgs[(i + seq) % len(orgs)]
        ids = by_org[org]
        items = []
        for k in range(size):
            doctor_id, _, hpr, on = ids[(seq * size + k) % len(ids)]
            items.append(
                {
                    "path": f"/api/v1/doctors/{doctor_id}/assessments",
                    "body": assessment_body(seq + k, hpr, on),
                }
            )
        status, body = await conn.request(
            "POST", "/api/v1/batch", {"Authorization": f"Bearer {tokens[org]}"}, {"items": items}
        )
        if status != 200:
            raise RuntimeError(f"{status} {body[:200]!r}")
        result = msgspec.json.decode(body)
        return int(result["succeeded"])

    return await http_closed_loop(base, clients, seconds, op)


async def http_figures(
    servers: Servers, url: str, opts: Options, info: dict[str, Any]
) -> list[Figure]:
    data_dir = servers.workdir / "api-var"
    data_dir.mkdir(exist_ok=True)
    doctors = await writers(url, 640 if not opts.quick else 40)
    levels = (1, 16) if opts.quick else (1, 16, 64)
    results: dict[str, list[Any]] = {}
    sync = await _measure_http(servers, url, opts, data_dir, doctors, levels, results)
    figures: list[Figure] = []
    for clients in levels:
        figures += _append_figures(clients, results, opts.quick)
    rawb, batch, batch_p99 = _batch_figures(results, opts.quick)
    sync[1].against, sync[1].ratio = rawb.name, sync[1].value / rawb.value if rawb.value else None
    return [
        *figures,
        rawb,
        batch,
        batch_p99,
        *sync,
        *progress_figures.figures(results, info, opts),
    ]


async def _measure_http(
    servers: Servers,
    url: str,
    opts: Options,
    data_dir: Path,
    doctors: list[Writer],
    levels: tuple[int, ...],
    results: dict[str, list[Any]],
) -> list[Figure]:
    """Every run of the HTTP figures against one API process, into ``results``; returns the
    nightly sync's figures (measured in the first run)."""
    from bench.api_process import api_process

    tokens = mint_tokens(data_dir, {w[1] for w in doctors})
    conn = await asyncpg.connect(url)
    all_doctors = [
        r["stream_id"]
        for r in await conn.fetch("SELECT stream_id FROM doctor_states ORDER BY stream_id")
    ]
    await conn.close()
    sync_org = max({w[1] for w in doctors}, key=lambda o: sum(w[1] == o for w in doctors))
    seconds = opts.duration
    with api_process(url, servers.nats.url, data_dir) as base:
        await http_append(base, doctors, tokens, levels[-1], 2.0)  # warm the pool up
        for run_no in range(opts.runs):
            for clients in levels:
                raw = await raw_ceiling(url, clients, seconds)
                http = await http_append(base, doctors, tokens, clients, seconds)
                results.setdefault(f"raw{clients}", []).append(raw)
                results.setdefault(f"http{clients}", []).append(http)
                log(
                    f"http run {run_no + 1} clients={clients}: raw {raw.units_per_s:.0f} ev/s, "
                    f"HTTP {http.units_per_s:.0f} ev/s p50 {http.p50:.1f} ms "
                    f"p99 {http.p99:.1f} ms errors {http.errors}"
                )
            batch_clients = 4 if not opts.quick else 2
            size = 100 if not opts.quick else 20
            raw_batch = await raw_ceiling(url, batch_clients, seconds, batch=size)
            batch = await http_batch(base, doctors, tokens, batch_clients, seconds, size)
            results.setdefault("rawbatch", []).append(raw_batch)
            results.setdefault("batch", []).append(batch)
            log(
                f"batch run {run_no + 1}: raw {raw_batch.units_per_s:.0f} ev/s, "
                f"HTTP batch {batch.units_per_s:.0f} ev/s errors {batch.errors}"
            )
            if run_no == 0:  # each sync run is a night of its own (fresh facts)
                sync = await nightly_sync(base, url, sync_org, tokens[sync_org], opts, opts.runs)
            await progress_figures.runs(
                base, url, all_doctors, tokens["caseworker"], seconds, data_dir, results
            )
    return sync


def _append_figures(clients: int, results: dict[str, list[Any]], quick: bool) -> list[Figure]:
    raw = results[f"raw{clients}"]
    http = results[f"http{clients}"]
    raw_f = Figure(
        f"raw_asyncpg_append_{clients}c_loaded",
        "events/s",
        [r.units_per_s for r in raw],
        group="http",
        note="ceiling, same server and database as the HTTP figures",
    )
    http_f = Figure(
        f"http_append_{clients}c",
        "events/s",
        [h.units_per_s for h in http],
        group="http",
        against=raw_f.name,
        note="POST /api/v1/doctors/{id}/assessments (auth, validation, decision, commit)",
    )
    http_f.ratio = http_f.value / raw_f.value if raw_f.value else None
    p50 = latency(f"http_append_{clients}c_p50", http, 50, group="http")
    p99 = latency(f"http_append_{clients}c_p99", http, 99, group="http")
    if clients == 64:
        http_f.goal = ">= 25 % of the raw asyncpg ceiling"
        http_f.met = None if quick else bool(http_f.ratio and http_f.ratio >= 0.25)
        p99.goal = "<= 50 ms"
        p99.met = None if quick else p99.value <= 50
    return [raw_f, http_f, p50, p99]


def _batch_figures(results: dict[str, list[Any]], quick: bool) -> tuple[Figure, Figure, Figure]:
    rawb = Figure(
        "raw_asyncpg_append_batch100_4c",
        "events/s",
        [r.units_per_s for r in results["rawbatch"]],
        group="http",
        note="ceiling: 100 rows per INSERT, 4 connections",
    )
    batch = Figure(
        "http_batch100_4c",
        "events/s",
        [r.units_per_s for r in results["batch"]],
        group="http",
        against=rawb.name,
        goal=">= 60 % of the ceiling",
        note="POST /api/v1/batch, 100 assessments a request, 4 clients",
    )
    batch.ratio = batch.value / rawb.value if rawb.value else None
    batch.met = None if quick else bool(batch.ratio and batch.ratio >= 0.6)
    batch_p99 = latency("http_batch100_4c_p99", results["batch"], 99, group="http")
    return rawb, batch, batch_p99


def statistics_median(values: list[float]) -> float:
    return percentile(values, 50)
