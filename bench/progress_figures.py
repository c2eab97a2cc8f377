"""Progress reads through the API against the plain SQL read of the same row, cold (every
read a new key), mixed (a realistic skew, with the cache's measured hit rate) and hot (the
same few hundred doctors over and over)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg

from bench.core import Figure, Options, latency, log, percentile
from bench.http_client import Connection, http_closed_loop
from bench.load import closed_loop
from bench.world import TODAY

MIXES = ("cold", "mixed", "hot")


def progress_order(doctor_ids: list[str], mix: str, n: int = 100_000) -> list[str]:
    """The reads of a progress run, as path + query.

    - ``cold``: every read a key never asked before (each doctor once, then each again for
      an earlier date): the cache never answers, so this is the computation's own cost.
    - ``mixed``: 80 % of reads to a fifth of the doctors (those in active training whose
      records and progress pages are looked at), 20 % to the rest, all for today: the hit
      rate is what this mix gives over the run (reported beside the figure).
    - ``hot``: 320 doctors read over and over: the cache's own cost.
    """
    rng = random.Random(32)
    ids = sorted(doctor_ids)
    if mix == "cold":
        rng.shuffle(ids)
        return [
            f"/api/v1/doctors/{ids[i % len(ids)]}/progress?as_of="
            f"{(TODAY - timedelta(days=i // len(ids))).isoformat()}"
            for i in range(n)
        ]
    if mix == "hot":
        hot = ids[:320]
        return [f"/api/v1/doctors/{rng.choice(hot)}/progress" for _ in range(n)]
    active = ids[: max(1, len(ids) // 5)]
    return [
        f"/api/v1/doctors/{rng.choice(active if rng.random() < 0.8 else ids)}/progress"
        for _ in range(n)
    ]


def cache_counts(base: str, data_dir: Path) -> tuple[int, int]:
    """(hits, misses) of the API's progress cache, from its /metrics."""
    import urllib.request

    token = (data_dir / "metrics-token").read_text().strip()
    request = urllib.request.Request(
        f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        text = r.read().decode()
    counts = {"hit": 0.0, "miss": 0.0}
    for line in text.splitlines():
        if line.startswith("kompetanse_progress_cache_total{"):
            result = line.split('result="')[1].split('"')[0]
            counts[result] += float(line.rsplit(" ", 1)[1])
    return int(counts["hit"]), int(counts["miss"])


async def progress_reads(
    base: str,
    url: str,
    doctor_ids: list[str],
    token: str,
    readers: int,
    seconds: float,
    *,
    mix: str = "mixed",
    sql: bool = True,
) -> tuple[Any, Any]:
    """GET progress through the API (the ``mix`` of :func:`progress_order`), then the plain
    SQL read of the same rows."""
    order = progress_order(doctor_ids, mix)
    spread = 1 if mix == "cold" else 997  # cold: each reader its own run of new keys
    offset = {"n": 0}

    async def op(conn: Connection, i: int, seq: int) -> int:
        if mix == "cold":
            offset["n"] += 1
            path = order[offset["n"] % len(order)]
        else:
            path = order[(i * spread + seq) % len(order)]
        status, body = await conn.request("GET", path, {"Authorization": f"Bearer {token}"})
        if status != 200:
            raise RuntimeError(f"{status} {body[:200]!r}")
        return 1

    api = await http_closed_loop(base, readers, seconds, op)
    if not sql:
        return api, None
    pool = await asyncpg.create_pool(url, min_size=readers, max_size=readers)
    try:

        async def sql_op(i: int, seq: int) -> int:
            doctor_id = order[(i * 997 + seq) % len(order)].split("/")[4]
            async with pool.acquire() as c:
                row = await c.fetchrow(
                    "SELECT version, state FROM doctor_states WHERE stream_id = $1", doctor_id
                )
            if row is None:
                raise RuntimeError("no row")
            return 1

        sql_result = await closed_loop(readers, seconds, sql_op)
    finally:
        await pool.close()
    return api, sql_result


async def runs(
    base: str,
    url: str,
    doctor_ids: list[str],
    token: str,
    seconds: float,
    data_dir: Path,
    results: dict[str, list[Any]],
) -> None:
    """One run of each mix (32 readers), the SQL read beside the mixed one; the cache's
    hits and misses over each run from the API's /metrics."""
    for mix in MIXES:
        before = cache_counts(base, data_dir)
        api, sql = await progress_reads(
            base, url, doctor_ids, token, 32, seconds, mix=mix, sql=mix == "mixed"
        )
        hits, misses = (a - b for a, b in zip(cache_counts(base, data_dir), before, strict=True))
        rate = hits / (hits + misses) if hits + misses else 0.0
        results.setdefault(f"progress_{mix}", []).append(api)
        results.setdefault(f"progress_{mix}_hit_rate", []).append(rate)
        if sql is not None:
            results.setdefault("progress_sql", []).append(sql)
        log(
            f"progress {mix}: API p50 {api.p50:.1f} p99 {api.p99:.1f} ms ({api.ops_per_s:.0f}/s, "
            f"errors {api.errors}), cache hit rate {100 * rate:.0f} %"
            + (f"; SQL p50 {sql.p50:.2f} p99 {sql.p99:.2f} ms" if sql is not None else "")
        )


def figures(results: dict[str, list[Any]], info: dict[str, Any], opts: Options) -> list[Figure]:
    sql = results["progress_sql"]
    s_p50 = latency("progress_sql_32r_p50", sql, 50, group="progress")
    s_p99 = latency(
        "progress_sql_32r_p99",
        sql,
        99,
        group="progress",
        note="plain asyncpg SELECT of the same doctor_states row",
    )
    out = []
    for mix in MIXES:
        reads = results[f"progress_{mix}"]
        rates = results[f"progress_{mix}_hit_rate"]
        name = "progress_query_32r" if mix == "mixed" else f"progress_query_32r_{mix}"
        rate_text = f"cache hit rate {100 * percentile(rates, 50):.0f} %"
        p99 = latency(
            f"{name}_p99",
            reads,
            99,
            group="progress",
            against=s_p99.name,
            note=f"GET /api/v1/doctors/{{id}}/progress, 32 readers, {mix} mix, {rate_text}; "
            f"{info['doctors']} doctors / {info['events']} events loaded",
        )
        p99.ratio = p99.value / s_p99.value if s_p99.value else None
        if mix == "mixed":
            p99.goal = "<= 20 ms"
            p99.met = None if opts.quick else p99.value <= 20
        out += [
            latency(f"{name}_p50", reads, 50, group="progress"),
            p99,
            Figure(
                f"{name}_throughput",
                "requests/s",
                [r.ops_per_s for r in reads],
                group="progress",
            ),
            Figure(
                f"{name}_cache_hit_rate",
                "%",
                [100 * r for r in rates],
                group="progress",
                note="kompetanse_progress_cache_total over the run (hit / (hit + miss))",
            ),
        ]
    return [*out, s_p50, s_p99]
