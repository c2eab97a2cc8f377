"""``kompetanse run`` (what ``make run`` starts) as a user sees it: its own PostgreSQL and
NATS, the API answering, ready once projections are caught up, and Ctrl-C stopping every
process it started while the data stays for the next run."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
    data_dir: Path,
    api_port: int,
    pg_port: int,
    nats_port: int,
    extra_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "NATS_URL")
    }
    env.update(
        KOMPETANSE_DATA_DIR=str(data_dir),
        KOMPETANSE_PORT=str(api_port),
        LOG_LEVEL="warning",
        **(extra_env or {}),
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
        assert httpx.get(f"{base}/metrics").status_code == 401  # behind the operator's token
        token = (data_dir / "metrics-token").read_text().strip()
        scraped = httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert "kompetanse_http_requests_total" in scraped.text
        assert "server" not in scraped.headers  # no banner
        assert httpx.get(f"{base}/schema/openapi.json").json()["info"]["title"] == "kompetanse"
        readme_walkthrough(base, data_dir)
        demo_page_in_a_browser(base)
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


def kompetanse(*args: str, data_dir: Path) -> str:
    env = {**os.environ, "KOMPETANSE_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def curl(*args: str) -> tuple[int, str]:
    result = subprocess.run(
        ["curl", "-sS", "-w", "\n%{http_code}", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def readme_walkthrough(base: str, data_dir: Path) -> None:
    """What the README tells a new user: mint a token, write with curl, read it back."""
    admin = kompetanse("token", "--role", "admin", data_dir=data_dir)
    status, body = curl(
        "-X",
        "POST",
        f"{base}/api/v1/organisations",
        "-H",
        f"Authorization: Bearer {admin}",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"org_number": "983974899", "name": "Eksempel HF", "kind": "hospital_trust"}',
    )
    assert status == 201, body
    org = kompetanse("token", "--role", "organisation", "--org", "983974899", data_dir=data_dir)
    status, body = curl(
        "-X",
        "POST",
        f"{base}/api/v1/doctors",
        "-H",
        f"Authorization: Bearer {org}",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"hpr_number": "1234567", "authorised_on": "2025-06-20"}',
    )
    assert status == 201, body
    doctor_id = json.loads(body)["doctor_id"]
    status, body = curl(
        "-X",
        "POST",
        f"{base}/api/v1/doctors/{doctor_id}/service-periods",
        "-H",
        f"Authorization: Bearer {org}",
        "-H",
        "Content-Type: application/json",
        "-H",
        "Idempotency-Key: first-period",
        "-d",
        '{"org_number": "983974899", "part": 1, "arena": "hospital", '
        '"position": "LIS1", "fte_percent": 100, "start": "2025-09-01"}',
    )
    assert status == 201, body
    status, body = curl(
        f"{base}/api/v1/doctors/{doctor_id}/progress", "-H", f"Authorization: Bearer {org}"
    )
    assert status == 200 and json.loads(body)["doctor_id"] == doctor_id
    # The event reaches a projection within a second (relay and projectors are running).
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lag = httpx.get(f"{base}/readyz").json()["checks"]["lag"]
        if max(lag.values()) == 0:
            break
        time.sleep(0.1)
    assert max(lag.values()) == 0, lag


def demo_page_in_a_browser(base: str) -> None:
    """The demo doctor's progress page in headless Chromium, with a screenshot kept."""
    chromium = ensure_chromium()
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/dev/login?hpr=9100001", follow_redirects=True).status_code != 200:
        assert time.monotonic() < deadline, "the demo data never appeared"
        time.sleep(0.5)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "progress-page.png"
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ]
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [
                chromium,
                *flags,
                f"--user-data-dir={profile}",
                "--dump-dom",
                f"{base}/dev/login?hpr=9100001",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    assert "Min spesialistutdanning" in dom and "Demo Doktorsen" in dom, dom[:500]
    assert "læringsmål godkjent" in dom
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *flags,
                f"--user-data-dir={profile}",
                "--window-size=412,1800",
                f"--screenshot={shot}",
                f"{base}/dev/login?hpr=9100001",
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
    assert shot.stat().st_size > 10_000


ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def ensure_chromium() -> str:
    """Debian's Chromium, installed by the test set-up when missing (as root)."""
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("chromium is missing: apt-get install chromium (needs root)")
    subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium"],
        check=True,
        timeout=900,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )
    found = shutil.which("chromium")
    assert found, "chromium did not install"
    return found
