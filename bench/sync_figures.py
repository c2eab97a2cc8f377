"""The nightly sync (issue 14): one hospital's system sends a day's facts about its doctors
through ``POST /api/v1/batch`` — new service periods, absences and assessments — at the
largest batch the API allows, each item with its own idempotency key, as a real sync would.
Timed from the first request to the last answer."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date, timedelta
from typing import Any

import asyncpg
import msgspec

from bench.core import Figure, Options, log
from bench.http_client import Connection

FACTS = 20_000
QUICK_FACTS = 2_000
BATCH_SIZE = 500  # services.api.batch.MAX_ITEMS: the most the API takes in one request
CLIENTS = 4  # batches in flight at once
PER_DOCTOR = 20  # facts per doctor in one night: items of one doctor travel together

# doctor id, a hospital period (id, start, end), the veileder the hospital appointed there
SyncDoctor = tuple[str, str, date, date, str]


async def hospital_doctors(url: str, org: str) -> list[SyncDoctor]:
    """The hospital's doctors with a closed period there and its veileder: a new period after
    all of a doctor's service cannot breach R10, and absences and assessments fall inside."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (p.stream_id) p.stream_id, p.data->>'period_id' AS pid, "
            "p.data->>'start' AS start, p.data->>'end' AS end_, s.data->>'hpr_number' AS hpr "
            "FROM events p JOIN events s ON s.stream_id = p.stream_id "
            "AND s.type = 'doctor.supervisor_assigned' AND s.data->>'role' = 'veileder' "
            "AND s.data->>'org_number' = p.data->>'org_number' "
            "AND s.data->>'valid_from' = p.data->>'start' "
            "WHERE p.type = 'doctor.service_period_recorded' AND p.data->>'org_number' = $1 "
            "AND p.data->>'arena' = 'hospital' AND p.data->>'start' >= '2020-03-01' "
            "AND p.data->>'end' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM events o "
            "  WHERE o.stream_id = p.stream_id AND o.type = 'doctor.service_period_recorded' "
            "  AND coalesce(o.data->>'end', '') = '') "
            "ORDER BY p.stream_id, p.data->>'start' DESC",
            org,
        )
    finally:
        await conn.close()
    return [
        (
            r["stream_id"],
            r["pid"],
            date.fromisoformat(r["start"]),
            date.fromisoformat(r["end_"]),
            r["hpr"],
        )
        for r in rows
    ]


def _fact(doctor: SyncDoctor, org: str, k: int, night: int) -> tuple[str, dict[str, Any]]:
    """The k-th fact of the night about one doctor: a new period first, then absences and
    assessments (about 1 absence to 5 assessments)."""
    doctor_id, period_id, start, end, hpr = doctor
    base = f"/api/v1/doctors/{doctor_id}"
    if k == 0:
        first = date(2040, 1, 1) + timedelta(days=40 * night)  # after all generated service
        return f"{base}/service-periods", {
            "org_number": org,
            "part": 2,
            "arena": "hospital",
            "position": "LIS2",
            "fte_percent": 20,
            "start": first.isoformat(),
            "end": (first + timedelta(days=30)).isoformat(),
        }
    span = max(1, (end - start).days)
    day = start + timedelta(days=(night * PER_DOCTOR + k) % span)
    if k % 6 == 1:
        # In the period's first ten days, before any absence the generator logged, at 1 %:
        # many nights of these never add up past the position (R8).
        off = start + timedelta(days=(night * 3 + k // 6) % min(span, 10))
        return f"{base}/service-periods/{period_id}/absences", {
            "kind": "education",
            "start": off.isoformat(),
            "end": off.isoformat(),
            "percent": 1,
        }
    return f"{base}/assessments", {
        "objective_id": f"KLS-{(night + k) % 45 + 1:03d}",
        "assessor_hpr": hpr,
        "assessor_role": "veileder",
        "outcome": "achieved",
        "assessed_on": day.isoformat(),
        "method": "direkte observasjon",
    }


def night_of(doctors: list[SyncDoctor], org: str, facts: int, night: int) -> list[list[Any]]:
    """``facts`` items, PER_DOCTOR per doctor in doctor order, cut into batches."""
    items = []
    for i in range(facts):
        doctor = doctors[(i // PER_DOCTOR) % len(doctors)]
        path, body = _fact(doctor, org, i % PER_DOCTOR, night + i // (PER_DOCTOR * len(doctors)))
        items.append({"path": path, "body": body, "idempotency_key": f"sync-{night}-{i}"})
    return [items[i : i + BATCH_SIZE] for i in range(0, len(items), BATCH_SIZE)]


async def one_night(base: str, token: str, batches: list[list[Any]]) -> tuple[float, int, int]:
    """Seconds for all batches, with CLIENTS in flight; stored and refused item counts."""
    host, port = base.removeprefix("http://").split(":")
    queue = list(reversed(batches))
    counts = [0, 0]

    async def client() -> None:
        conn = Connection(host, int(port))
        try:
            while queue:
                batch = queue.pop()
                status, body = await conn.request(
                    "POST", "/api/v1/batch", {"Authorization": f"Bearer {token}"}, {"items": batch}
                )
                if status != 200:
                    raise RuntimeError(f"{status} {body[:300]!r}")
                result = msgspec.json.decode(body)
                counts[0] += result["succeeded"]
                counts[1] += result["failed"]
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    return time.perf_counter() - started, counts[0], counts[1]


async def nightly_sync(
    base: str, url: str, org: str, token: str, opts: Options, runs: int
) -> list[Figure]:
    facts = int(os.environ.get("BENCH_SYNC_FACTS", QUICK_FACTS if opts.quick else FACTS))
    doctors = await hospital_doctors(url, org)
    if not doctors:
        raise RuntimeError(f"no doctors with a closed period at {org}")
    seconds, rates, refused = [], [], []
    for night in range(runs):
        took, stored, failed = await one_night(
            base, token, night_of(doctors, org, facts, night * 1000)
        )
        seconds.append(took)
        rates.append(stored / took)
        refused.append(failed)
        log(f"nightly sync {night + 1}: {facts} facts in {took:.1f} s, {failed} refused")
    note = (
        f"{facts} facts (1 period, 3 absences, 16 assessments per doctor) about "
        f"{min(len(doctors), -(-facts // PER_DOCTOR))} doctors of hospital {org}, "
        f"{BATCH_SIZE} items a request with idempotency keys, {CLIENTS} requests in flight; "
        f"refused per run {refused}"
    )
    return [
        Figure(
            "nightly_sync_seconds",
            "s",
            seconds,
            goal=f"<= 10 s for {FACTS} facts",
            met=None if opts.quick else sorted(seconds)[len(seconds) // 2] <= 10,
            group="http",
            higher_is_better=False,
            note=note,
        ),
        Figure(
            "nightly_sync_events_per_s",
            "events/s",
            rates,
            group="http",
            note="stored items per second of the sync above (goal: 2 000/s)",
        ),
    ]
