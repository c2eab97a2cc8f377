"""The API with several worker processes (issue 14): what one worker knows of a party, the
others know too. Each test talks to chosen workers of one real ``kompetanse api`` on purpose
(tests/api_workers.py): a party's requests are counted against one rate limit whichever
worker serves them, and /metrics counts every worker's requests whichever answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.embedded import free_port
from services.identity.dev_issuer import DevIssuer
from tests.api_workers import one_per_worker

WORKERS = 2
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def api_with_workers(  # type: ignore[no-untyped-def]
    database_url, nats_server_url, stream_name, tmp_path
) -> Iterator[tuple[int, subprocess.Popen[bytes], Path]]:
    data_dir = tmp_path / "var"
    DevIssuer(data_dir)  # its key, before the workers read it
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_server_url,
        "KOMPETANSE_STREAM": stream_name,
        "KOMPETANSE_DATA_DIR": str(data_dir),
        "KOMPETANSE_HOST": "127.0.0.1",
        "KOMPETANSE_PORT": str(port),
        "KOMPETANSE_API_WORKERS": str(WORKERS),
        "KOMPETANSE_RATE_LIMIT_PER_MINUTE": "4",
        "KOMPETANSE_DB_POOL_SIZE": "2",
        "LOG_LEVEL": "warning",
    }
    log = (tmp_path / "api.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "api"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (tmp_path / "api.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not answer /healthz"
            time.sleep(0.2)
        yield port, process, data_dir
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_party_is_rate_limited_across_workers(api_with_workers) -> None:  # type: ignore[no-untyped-def]
    port, process, data_dir = api_with_workers
    first, second = one_per_worker("127.0.0.1", port, process.pid, WORKERS)
    assert first.worker != second.worker
    token = DevIssuer(data_dir).mint("doctor", hpr_number="9100001", client_id="app")
    headers = {"Authorization": f"Bearer {token}"}
    path = "/api/v1/catalogue/objectives"
    # 4 a minute (one token back every 15 s): two through each worker spend all four.
    spent = [c.request("GET", path, headers)[0] for c in (first, second, first, second)]
    assert 429 not in spent, spent
    # A worker keeping its own count would still have two left for this party.
    assert first.request("GET", path, headers)[0] == 429
    assert second.request("GET", path, headers)[0] == 429
    # Another party's bucket is its own.
    other = DevIssuer(data_dir).mint("doctor", hpr_number="9100002", client_id="app")
    assert second.request("GET", path, {"Authorization": f"Bearer {other}"})[0] != 429
    # /metrics, answered by either worker, counts both workers' refusals.
    metrics_token = (data_dir / "metrics-token").read_text().strip()
    for connection in (first, second):
        status, body = connection.request(
            "GET", "/metrics", {"Authorization": f"Bearer {metrics_token}"}
        )
        assert status == 200
        refused = [
            line
            for line in body.decode().splitlines()
            if line.startswith("kompetanse_http_requests_total{")
            and 'route="/api/v1/catalogue/objectives"' in line
            and 'status="429"' in line
        ]
        assert len(refused) == 1 and float(refused[0].rsplit(" ", 1)[1]) == 2.0, refused
    for connection in (first, second):
        connection.close()
