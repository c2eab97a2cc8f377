"""The API as its own process (``python -m services.cli api``), as deployed: with its
default number of workers (one per core) unless told otherwise."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench.core import stop_processes
from services.config import cpu_count
from services.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def api_process(
    database_url: str,
    nats_url: str,
    data_dir: Path,
    *,
    pool_size: int = 32,
    module: str = "services.cli",
    workers: int | None = None,
    server: str = "uvicorn",
) -> Iterator[str]:
    """The API as its own process (``module``: the entry point to run). ``pool_size`` is
    the connections the whole API may hold (pool and overflow, 2 x ``pool_size``), shared
    out between its ``workers`` (None: one per core, the setting's default). ``server``
    "granian" serves the same app with Granian instead (bench/server_choice.py)."""
    port = free_port()
    count = workers or cpu_count()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "KOMPETANSE_DATA_DIR": str(data_dir),
        "KOMPETANSE_HOST": "127.0.0.1",
        "KOMPETANSE_PORT": str(port),
        "KOMPETANSE_STREAM": "BENCH_EVENTS",
        "KOMPETANSE_DB_POOL_SIZE": str(max(2, -(-pool_size // count))),
        "KOMPETANSE_API_WORKERS": str(count),
        "KOMPETANSE_RATE_LIMIT_PER_MINUTE": "100000000",
        "LOG_LEVEL": "warning",
        "LOG_JSON": "true",
        "PYTHONPATH": str(ROOT),  # for -m bench... from any working directory
    }
    log = (data_dir / "api.log").open("ab")
    command = [sys.executable, "-m", module, "api"]
    if server == "granian":
        command = [sys.executable, "-m", "granian", *granian_options(count, port)]
    proc = subprocess.Popen(
        command,
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(proc, base, data_dir)
        yield base
    finally:
        stop_processes([proc])
        log.close()


def _wait_until_healthy(proc: subprocess.Popen[bytes], base: str, data_dir: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"API exited with {proc.returncode}; see {data_dir}/api.log")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("API did not answer /healthz within 60 s")
        time.sleep(0.2)


def granian_options(workers: int, port: int) -> list[str]:
    """Granian serving the app the way ``kompetanse api`` has uvicorn serve it."""
    return [
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-ws",
        "--log-level",
        "warning",
        "--respawn-failed-workers",
        "services.api.app:create_worker_app",
    ]
