"""``kompetanse run`` (what ``make run`` starts) as a user sees it: its own PostgreSQL and
NATS, the API answering, ready once projections are caught up, and Ctrl-C stopping every
process it started while the data stays for the next run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from services.embedded import free_port


def wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    last: httpx.Response | None = None
    while time.monotonic() < deadline:
        assert process.poll() is None, "kompetanse run exited early"
        try:
            last = httpx.get(f"{base}/readyz", timeout=2)
            if last.status_code == 200:
                return last
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not ready in {seconds} s: {last.text if last else 'no answer'}")


def start_run(
    data_dir: Path, api_port: int, pg_port: int, nats_port: int
) -> subprocess.Popen[bytes]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "NATS_URL")
    }
    env.update(
        KOMPETANSE_DATA_DIR=str(data_dir),
        KOMPETANSE_PORT=str(api_port),
        LOG_LEVEL="warning",
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "services.cli",
            "run",
            "--pg-port",
            str(pg_port),
            "--nats-port",
            str(nats_port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def stop(process: subprocess.Popen[bytes]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    return output.decode(errors="replace")


def server_processes(data_dir: Path) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in listing.splitlines() if str(data_dir) in line]


@pytest.mark.timeout(300)
def test_run_serves_health_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    api_port, pg_port, nats_port = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{api_port}"
    process = start_run(data_dir, api_port, pg_port, nats_port)
    try:
        wait_ready(base, process)
        assert httpx.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
        ready = httpx.get(f"{base}/readyz", timeout=5).json()
        assert ready["checks"]["database"] == "ok" and ready["checks"]["nats"] == "ok"
        assert "kompetanse_http_requests_total" in httpx.get(f"{base}/metrics").text
        assert httpx.get(f"{base}/schema/openapi.json").json()["info"]["title"] == "kompetanse"
    finally:
        output = stop(process)
    assert "kompetanse is running" in output
    assert "kompetanse: stopped." in output
    assert process.returncode == 0
    assert server_processes(data_dir) == [], "a server outlived Ctrl-C"
    assert (data_dir / "postgres" / "PG_VERSION").exists()

    # Running again keeps the data.
    process = start_run(data_dir, api_port, pg_port, nats_port)
    try:
        wait_ready(base, process)
    finally:
        stop(process)
