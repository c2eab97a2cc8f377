"""``kompetanse run`` supervises what it starts (issue #10): kill -9 of each child, the API,
the relay, the projector, NATS and PostgreSQL, is followed by a restart while writes go on,
and no acknowledged write is lost or stored twice. The API runs two worker processes
(issue #14): kill -9 of one worker is repaired by the API's own master, kill -9 of the
master by ``run`` (its workers end with it). Ctrl-C still stops everything."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from domain.identifiers import is_valid_org_number
from services.embedded import free_port
from services.identity.dev_issuer import DevIssuer
from tests.api_workers import children
from tests.e2e.test_run_command import server_processes, start_run, wait_ready

ROLES = ("api", "relay", "projector", "nats", "postgres")
API_WORKERS = 2


def org_numbers() -> Iterator[str]:
    return (str(n) for n in itertools.count(910_000_000) if is_valid_org_number(str(n)))


def _copy(process: subprocess.Popen[bytes], path: Path) -> None:
    assert process.stdout is not None
    with path.open("wb") as out:
        for line in process.stdout:
            out.write(line)
            out.flush()


def status(data_dir: Path) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = json.loads(
        (data_dir / "run" / "processes.json").read_text()
    )
    return found


LAST_FAILURE: list[str] = [""]


def write(base: str, token: str, org: str, seconds: float = 90) -> bool:
    """Register an organisation, retried with the same key while the stack recovers; True
    once acknowledged."""
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"sup-{org}"}
    body = {"org_number": org, "name": f"Tilsyn {org}", "kind": "municipality"}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = httpx.post(
                f"{base}/api/v1/organisations", json=body, headers=headers, timeout=5
            )
        except httpx.HTTPError as err:
            LAST_FAILURE[0] = repr(err)
            time.sleep(0.3)
            continue
        if response.status_code == 201:
            return True
        assert response.status_code >= 500 or response.status_code == 429, response.text
        LAST_FAILURE[0] = f"{response.status_code} {response.text[:300]}"
        time.sleep(0.3)
    return False


def api_workers(data_dir: Path) -> set[int]:
    """The API master's worker processes (uvicorn starts them with multiprocessing)."""
    master = int(str(status(data_dir)["api"]["pid"]))
    found = set()
    for pid in children(master):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
    return found


def kill_one_api_worker(data_dir: Path, seconds: float = 90) -> float:
    """kill -9 of one API worker; the seconds until the master has two workers again."""
    before = api_workers(data_dir)
    assert len(before) == API_WORKERS, before
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        now = api_workers(data_dir)
        if len(now) == API_WORKERS and victim not in now:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"the API worker was not replaced: {api_workers(data_dir)}")


def wait_restarted(data_dir: Path, role: str, old_pid: int, seconds: float = 90) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        now = status(data_dir)[role]
        if now["pid"] not in (None, old_pid) and now["alive"]:
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{role} was not restarted within {seconds} s: {status(data_dir)}")


async def events_per_org(pg_port: int) -> dict[str, int]:
    conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{pg_port}/postgres")
    try:
        rows = await conn.fetch(
            "SELECT stream_id, count(*) AS n FROM events WHERE stream_id LIKE 'org-91%' GROUP BY 1"
        )
    finally:
        await conn.close()
    return {row["stream_id"].removeprefix("org-"): row["n"] for row in rows}


@pytest.mark.timeout(600)
def test_every_child_killed_is_restarted_and_no_acknowledged_write_is_lost() -> None:
    # Not pytest's tmp_path: another pytest session makes its root private again, and the
    # PostgreSQL system user could then no longer reach the data directory to restart.
    tmp_path = Path(tempfile.mkdtemp(prefix="kompetanse-supervision-"))
    data_dir = tmp_path / "var"
    api_port, pg_port, nats_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    process = start_run(
        data_dir, api_port, pg_port, nats_port, {"KOMPETANSE_API_WORKERS": str(API_WORKERS)}
    )
    log_path = tmp_path / "run.log"
    pump = threading.Thread(target=_copy, args=(process, log_path), daemon=True)
    pump.start()
    orgs = org_numbers()
    acknowledged: list[str] = []
    report: list[str] = []
    try:
        wait_ready(base, process)
        token = DevIssuer(data_dir).mint("admin", ttl_seconds=3600)
        workers_seen = set(api_workers(data_dir))
        org = next(orgs)
        assert write(base, token, org)
        acknowledged.append(org)
        replaced = kill_one_api_worker(data_dir)
        workers_seen |= api_workers(data_dir)
        org = next(orgs)
        assert write(base, token, org), (
            f"no write acknowledged after a worker was killed: {LAST_FAILURE[0]}"
        )
        acknowledged.append(org)
        report.append(f"api worker: replaced {replaced:.1f} s after kill -9")
        for role in ROLES:
            org = next(orgs)
            assert write(base, token, org)
            acknowledged.append(org)
            pid = int(str(status(data_dir)[role]["pid"]))
            os.kill(pid, signal.SIGKILL)
            restarted = wait_restarted(data_dir, role, pid)
            org = next(orgs)
            assert write(base, token, org), (
                f"no write acknowledged after {role} was killed: {LAST_FAILURE[0]}"
            )
            acknowledged.append(org)
            wait_ready(base, process)
            workers_seen |= api_workers(data_dir)
            report.append(f"{role}: restarted {restarted:.1f} s after kill -9")
        # Each child was restarted once: killing one did not take another down.
        restarts = {role: s["restarts"] for role, s in status(data_dir).items()}
        # (the worker killed first was replaced by the API's master, not by run).
        assert restarts == dict.fromkeys(ROLES, 1), restarts
        assert len(api_workers(data_dir)) == API_WORKERS
        stored = asyncio.run(events_per_org(pg_port))
        assert {org: stored.get(org) for org in acknowledged} == {org: 1 for org in acknowledged}
    except BaseException:
        process.send_signal(signal.SIGINT)
        process.wait(60)
        pump.join(5)
        lines = log_path.read_text(errors="replace").splitlines()
        print("\n".join(line[:3000] for line in lines if '"event": "run.' in line)[-30000:])
        raise
    process.send_signal(signal.SIGINT)
    process.wait(60)
    pump.join(5)
    output = log_path.read_text(errors="replace")
    assert "kompetanse: stopped." in output, output[-3000:]
    assert server_processes(data_dir) == [], "a server outlived Ctrl-C"
    # Every API worker ever started is gone too: those of the killed master, the one the
    # master started in place of the killed worker, and the last ones.
    assert len(workers_seen) >= 2 * API_WORKERS + 1, workers_seen
    assert [pid for pid in workers_seen if Path(f"/proc/{pid}").exists()] == []
    print("\n".join(report))
    shutil.rmtree(tmp_path, ignore_errors=True)
